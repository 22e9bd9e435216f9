"""``get_graph(xray=True)``: subgraph nodes drawn as the graphs they run.

Each subgraph node is replaced by the subgraph's own drawing: its nodes, named
``node:inner`` (``:``-joined when nested deeper), and its edges; the edges into
and out of the node go to the subgraph's first and from its last node. Its
``__start__`` and ``__end__`` are left out when the subgraph still has a single
first (last) node without them, as LangGraph draws it. In Mermaid text the
nodes of a subgraph go in a ``subgraph <name> ... end`` block with the edges
inside it (:func:`mermaid_body`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._draw_model import DrawEdge, Drawing, DrawNode

D = TypeVar("D", bound="Drawing")  # the drawing given is the drawing returned

__all__ = ["expand", "mermaid_body"]


def _first(nodes: Iterable[str], edges: Sequence[DrawEdge], exclude: Sequence[str] = ()) -> Any:
    targets = {e.target for e in edges if e.source not in exclude}
    found = [n for n in nodes if n not in exclude and n not in targets]
    return found[0] if len(found) == 1 else None


def _last(nodes: Iterable[str], edges: Sequence[DrawEdge], exclude: Sequence[str] = ()) -> Any:
    sources = {e.source for e in edges if e.target not in exclude}
    found = [n for n in nodes if n not in exclude and n not in sources]
    return found[0] if len(found) == 1 else None


def _trim(inner: Drawing) -> None:
    """Drop the subgraph's first and last node where one other node stays first/last."""
    first = _first(inner.nodes, inner.edges)
    if (
        first is not None
        and _first(inner.nodes, inner.edges, [first]) is not None
        and sum(e.source == first for e in inner.edges) == 1
    ):
        _drop(inner, first)
    last = _last(inner.nodes, inner.edges)
    if (
        last is not None
        and _last(inner.nodes, inner.edges, [last]) is not None
        and sum(e.target == last for e in inner.edges) == 1
    ):
        _drop(inner, last)


def _drop(graph: Drawing, node: str) -> None:
    del graph.nodes[node]
    graph.edges = [e for e in graph.edges if node not in (e.source, e.target)]


def expand(drawing: D, subgraphs: Mapping[str, Drawing]) -> D:
    """``drawing`` with each subgraph node (``{name: its drawing}``) drawn inside."""
    import dataclasses

    for name, inner in subgraphs.items():
        if (
            len(inner.nodes) <= 1
            or name not in drawing.nodes
            or _first(inner.nodes, inner.edges) is None
            or _last(inner.nodes, inner.edges) is None
        ):
            continue
        _trim(inner)
        first = _first(inner.nodes, inner.edges)
        last = _last(inner.nodes, inner.edges)
        del drawing.nodes[name]

        def prefixed(node: str, name: str = name) -> str:
            return f"{name}:{node}"

        for key, node in inner.nodes.items():
            drawing.nodes[prefixed(key)] = dataclasses.replace(
                node, id=prefixed(key), name=prefixed(node.name)
            )
        drawing.edges.extend(
            e._replace(source=prefixed(e.source), target=prefixed(e.target)) for e in inner.edges
        )
        for i, edge in enumerate(drawing.edges):
            if edge.source == name and last is not None:
                edge = edge._replace(source=prefixed(last))
            if edge.target == name and first is not None:
                edge = edge._replace(target=prefixed(first))
            drawing.edges[i] = edge
    return drawing


def mermaid_body(
    nodes: dict[str, DrawNode],
    edges: Sequence[DrawEdge],
    node_line: Callable[[DrawNode], str],
    edge_line: Callable[[DrawEdge], str],
    with_styles: bool,
) -> str:
    """Node and edge lines of a drawing with subgraph nodes (``outer:inner`` ids):
    each subgraph's nodes and inner edges in a ``subgraph ... end`` block."""
    grouped: dict[str, dict[str, DrawNode]] = {}
    out = []
    for key, node in nodes.items():
        if ":" in key:
            grouped.setdefault(key.rsplit(":", 1)[0], {})[key] = node
        elif with_styles:
            out.append(f"\t{node_line(node)}\n")
    by_prefix: dict[str, list[DrawEdge]] = {}
    for edge in edges:
        pairs = zip(edge.source.split(":"), edge.target.split(":"), strict=False)
        common = ":".join(s for s, t in pairs if s == t)
        by_prefix.setdefault(common, []).append(edge)
    seen: set[str] = set()

    def block(group: list[DrawEdge], prefix: str) -> None:
        loop = len(group) == 1 and group[0].source == group[0].target
        if prefix and not loop:
            seen.add(prefix.rsplit(":", 1)[-1])
            out.append(f"\tsubgraph {prefix.rsplit(':', 1)[-1]}\n")
            if with_styles:
                out.extend(f"\t{node_line(n)}\n" for n in grouped.get(prefix, {}).values())
        out.extend(f"\t{edge_line(e)}\n" for e in group)
        for nested, inner in by_prefix.items():
            if nested.startswith(prefix + ":") and ":" not in nested[len(prefix) + 1 :]:
                block(inner, nested)
        if prefix and not loop:
            out.append("\tend\n")

    block(by_prefix.get("", []), "")
    for prefix, group in by_prefix.items():
        if prefix and ":" not in prefix:
            block(group, prefix)
            seen.add(prefix)
    if with_styles:
        for prefix, members in grouped.items():
            if ":" not in prefix and prefix not in seen:
                out.append(f"\tsubgraph {prefix}\n")
                out.extend(f"\t{node_line(n)}\n" for n in members.values())
                out.append("\tend\n")
                seen.add(prefix)
    return "".join(out)
