"""``get_graph()``'s JSON and ASCII forms, as LangChain's ``Graph.to_json()`` and
``Graph.draw_ascii()`` write them for the same nodes and edges.

The JSON document describes each node by what implements it, in LangChain's
terms: a node given as a Runnable by that Runnable's serialization id
(``lc_id()``, or its class path), any other callable object by its class path.
Any other callable (a function, a callable object) is described as LangGraph
describes it, since LangGraph wraps each one in its ``RunnableCallable``; so the
document for a graph of functions is the one LangGraph writes, and tools that
read LangGraph's graph JSON read graphpool's. graphpool's prebuilt nodes
(``ToolNode``) are named by their own class, as LangGraph's are.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from ._lc import is_runnable, require
from ._nest import SubgraphNode

if TYPE_CHECKING:
    from ._draw_model import Drawing, DrawNode

__all__ = ["FUNCTION_NODE_ID", "draw_ascii", "to_json"]

FUNCTION_NODE_ID = ("langgraph", "_internal", "_runnable", "RunnableCallable")
"""How LangGraph's graph JSON names the implementation of a plain-function node
(and of ``__start__``)."""

SUBGRAPH_NODE_ID = ("langgraph", "graph", "state", "CompiledStateGraph")
"""How LangGraph's graph JSON names a compiled graph added as a node."""

_END = "__end__"


def _implementation(fn: Any) -> list[str]:
    """What implements a node, as LangGraph's JSON names it (see the module docstring)."""
    cls = type(fn)
    if isinstance(fn, SubgraphNode):  # a compiled graph as a node
        return list(SUBGRAPH_NODE_ID)
    if is_runnable(fn):
        base = require("langchain_core.runnables.base", "get_graph().to_json()")
        if isinstance(fn, base.RunnableSerializable):
            return list(fn.lc_id())
        return [*cls.__module__.split("."), cls.__name__]
    if cls.__module__.startswith("graphpool.prebuilt."):  # LangGraph's own are Runnables
        return [*cls.__module__.split("."), cls.__name__]
    return list(FUNCTION_NODE_ID)  # what LangGraph wraps any other callable in


def node_json(node: DrawNode) -> dict[str, Any]:
    """One node of the document: ``{"id", "type", "data", "metadata"}`` as LangChain's."""
    out: dict[str, Any] = {"id": node.id}
    if node.id.rsplit(":", 1)[-1] != _END:  # a subgraph's __end__ too (xray drawings)
        out["type"] = "runnable"
        out["data"] = {"id": _implementation(node.data), "name": node.name}
    if node.metadata is not None:
        out["metadata"] = dict(node.metadata)
    return out


def to_json(graph: Drawing) -> dict[str, list[dict[str, Any]]]:
    """The graph as LangChain's ``Graph.to_json()`` document."""
    edges = []
    for edge in graph.edges:
        item: dict[str, Any] = {"source": edge.source, "target": edge.target}
        if edge.data is not None:
            item["data"] = edge.data
        if edge.conditional:
            item["conditional"] = True
        edges.append(item)
    return {"nodes": [node_json(n) for n in graph.nodes.values()], "edges": edges}


def draw_ascii(graph: Drawing) -> str:
    """The graph as ASCII art, drawn by langchain-core (which lays it out with grandalf).

    Raises:
        ImportError: langchain-core or grandalf is missing (the message names them).
    """
    ascii_module = require("langchain_core.runnables.graph_ascii", "get_graph().draw_ascii()")
    edge_class = require("langchain_core.runnables.graph", "get_graph().draw_ascii()").Edge
    if importlib.util.find_spec("grandalf") is None:
        raise ImportError(
            "get_graph().draw_ascii() lays the graph out with grandalf, which is not "
            "installed: pip install grandalf"
        )
    edges = [edge_class(e.source, e.target, e.data, e.conditional) for e in graph.edges]
    return str(ascii_module.draw_ascii({n.id: n.name for n in graph.nodes.values()}, edges))
