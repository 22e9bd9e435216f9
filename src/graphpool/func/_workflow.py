"""A compiled entrypoint: LangGraph's ``Pregel`` surface over a one-node graph.

:class:`Entrypoint` turns calls and chunks between the caller's shapes and the
graph's (see ``_entrypoint`` for the graph): the input goes in as ``{"input":
...}``, the return value comes out of ``output``, snapshots show it as their
values, and chunks go through :class:`~graphpool.func._stream.Chunks`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .._calls import check_version
from .._constants import END, START
from .._context import CURRENT
from ..types import Command
from ._schemas import io_types, root_model
from ._stream import Chunks

__all__ = ["Entrypoint"]


def _wrap(input: Any) -> Any:
    """The graph's input for the caller's: a Command or None (resume) as it is."""
    if input is None or isinstance(input, Command):
        return input
    return {"input": input}


class Entrypoint:
    """A compiled entrypoint: LangGraph's ``Pregel`` surface over a one-node graph.

    Attributes:
        graph: the compiled graph underneath.
        name: ``"LangGraph"``, as LangGraph names an entrypoint's graph.
        node: the function's name (the graph's one node, the key of its updates).
    """

    def __init__(
        self,
        graph: Any,
        node: str,
        func: Callable[..., Any],
        body: Callable[..., Any],
        final: type,
    ) -> None:
        self.graph = graph
        self.node = node
        self.func = func
        self._body = body  # the graph's node, called directly when nested
        self.name = "LangGraph"
        self.checkpointer = graph.checkpointer
        self.input_type, self.output_type = io_types(func, final)

    def __repr__(self) -> str:
        return f"<Entrypoint {self.node!r}>"

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.graph, attr)

    # -- running -------------------------------------------------------------

    def stream(
        self, input: Any, config: Any = None, *, stream_mode: Any = None, **kwargs: Any
    ) -> Any:
        """Run, yielding chunks (``updates`` by default, as LangGraph's entrypoints)."""
        version = kwargs.pop("version", "v1")
        chunks = Chunks(self.node, input, stream_mode, kwargs.get("subgraphs", False), version)
        inner = self.graph.stream(_wrap(input), config, stream_mode=chunks.modes, **kwargs)
        for item in inner:
            yield from chunks.out(item)

    async def astream(
        self, input: Any, config: Any = None, *, stream_mode: Any = None, **kwargs: Any
    ) -> Any:
        """:meth:`stream` for async code."""
        version = kwargs.pop("version", "v1")
        chunks = Chunks(self.node, input, stream_mode, kwargs.get("subgraphs", False), version)
        inner = self.graph.astream(_wrap(input), config, stream_mode=chunks.modes, **kwargs)
        async for item in inner:
            for out in chunks.out(item):
                yield out

    def invoke(
        self, input: Any, config: Any = None, *, stream_mode: str = "values", **kwargs: Any
    ) -> Any:
        """Run to the end: the function's return value (or ``{"__interrupt__": [...]}``).

        Called inside another entrypoint, a task or a graph node, an entrypoint
        without a checkpointer of its own runs as part of the caller: its task
        calls are the caller's (saved with the caller's thread), and its
        ``interrupt()`` pauses the caller. No second run, so a bounded pool
        cannot deadlock on it.
        """
        version = check_version(kwargs.pop("version", "v1"))
        parent = _nested_in() if self.checkpointer is None else None
        if parent is not None and stream_mode == "values":
            state = {"input": input, "previous": None}
            output = self._body(state, parent.config, parent.runtime)["output"]
            return _versioned(output, version)
        if stream_mode == "values":
            state = self.graph.invoke(_wrap(input), config, **kwargs)
            return _versioned(_result(input, state), version)
        if version != "v1":
            kwargs["version"] = version
        return list(self.stream(input, config, stream_mode=stream_mode, **kwargs))

    async def ainvoke(
        self, input: Any, config: Any = None, *, stream_mode: str = "values", **kwargs: Any
    ) -> Any:
        """:meth:`invoke` for async code."""
        version = check_version(kwargs.pop("version", "v1"))
        parent = _nested_in() if self.checkpointer is None else None
        if parent is not None and stream_mode == "values":
            state = {"input": input, "previous": None}
            done = self._body(state, parent.config, parent.runtime)
            output = (await done if inspect.isawaitable(done) else done)["output"]
            return _versioned(output, version)
        if stream_mode == "values":
            state = await self.graph.ainvoke(_wrap(input), config, **kwargs)
            return _versioned(_result(input, state), version)
        if version != "v1":
            kwargs["version"] = version
        found = [c async for c in self.astream(input, config, stream_mode=stream_mode, **kwargs)]
        return found

    def batch(self, inputs: Sequence[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        """:meth:`invoke` for each input."""
        configs = config if isinstance(config, list) else [config] * len(inputs)
        return [self.invoke(i, c, **kwargs) for i, c in zip(inputs, configs, strict=True)]

    async def abatch(self, inputs: Sequence[Any], config: Any = None, **kwargs: Any) -> list[Any]:
        """:meth:`batch` for async code."""
        import asyncio

        configs = config if isinstance(config, list) else [config] * len(inputs)
        return list(
            await asyncio.gather(
                *(self.ainvoke(i, c, **kwargs) for i, c in zip(inputs, configs, strict=True))
            )
        )

    # -- schemas -------------------------------------------------------------

    def get_input_schema(self, config: Any = None) -> Any:
        """A pydantic model of the input (the function's first parameter)."""
        return root_model("LangGraphInput", self.input_type)

    def get_output_schema(self, config: Any = None) -> Any:
        """A pydantic model of the return value."""
        return root_model("LangGraphOutput", self.output_type)

    def get_input_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The input's JSON schema, titled ``LangGraphInput``."""
        schema: dict[str, Any] = self.get_input_schema(config).model_json_schema()
        return schema

    def get_output_jsonschema(self, config: Any = None) -> dict[str, Any]:
        """The return value's JSON schema, titled ``LangGraphOutput``."""
        schema: dict[str, Any] = self.get_output_schema(config).model_json_schema()
        return schema

    def get_graph(self, config: Any = None, *, xray: int | bool = False) -> Any:
        """The drawing LangGraph gives an entrypoint: its node first, entered from
        ``__start__`` and left for ``__end__`` by a dotted (conditional) edge."""
        from .._draw import DrawableGraph, DrawEdge, DrawNode

        nodes = {
            self.node: DrawNode(self.node, self.node, self.func),
            START: DrawNode(START, START),
            END: DrawNode(END, END),
        }
        edges = [DrawEdge(START, self.node), DrawEdge(self.node, END, conditional=True)]
        return DrawableGraph(nodes, edges)

    # -- the thread ----------------------------------------------------------

    def update_state(self, config: Any, values: Any, as_node: str | None = None) -> Any:
        """Set the thread's saved value (the next run's ``previous``), as if the
        function had returned ``values``."""
        update = {"output": values, "previous": values}
        return self.graph.update_state(config, update, as_node=as_node or self.node)

    async def aupdate_state(self, config: Any, values: Any, as_node: str | None = None) -> Any:
        """:meth:`update_state` for async code."""
        update = {"output": values, "previous": values}
        return await self.graph.aupdate_state(config, update, as_node=as_node or self.node)

    def get_state(self, config: Any, **kwargs: Any) -> Any:
        """The thread's state: ``values`` is the last return value (None before one)."""
        return _snapshot(self.graph.get_state(config, **kwargs))

    async def aget_state(self, config: Any, **kwargs: Any) -> Any:
        """:meth:`get_state` for async code."""
        return _snapshot(await self.graph.aget_state(config, **kwargs))

    def get_state_history(self, config: Any, **kwargs: Any) -> Any:
        """The thread's checkpoints, newest first, as :meth:`get_state` shows them."""
        for snapshot in self.graph.get_state_history(config, **kwargs):
            yield _snapshot(snapshot)

    async def aget_state_history(self, config: Any, **kwargs: Any) -> Any:
        """:meth:`get_state_history` for async code."""
        async for snapshot in self.graph.aget_state_history(config, **kwargs):
            yield _snapshot(snapshot)


def _versioned(result: Any, version: str) -> Any:
    """``invoke``'s result in ``version``'s shape: under ``"v2"`` a ``GraphOutput``,
    the interrupts apart (the value of a paused run is ``{}``, as LangGraph's)."""
    if version == "v1":
        return result
    from ..types import GraphOutput

    if isinstance(result, dict) and "__interrupt__" in result:
        rest = {k: v for k, v in result.items() if k != "__interrupt__"}
        return GraphOutput(rest, tuple(result["__interrupt__"]))
    return GraphOutput(result)


def _nested_in() -> Any:
    """The running node or task call this call is made in, or None."""
    parent = CURRENT.get()
    return parent if parent is not None and hasattr(parent, "dispatcher") else None


def _snapshot(snapshot: Any) -> Any:
    values = snapshot.values
    return snapshot._replace(values=values.get("output") if isinstance(values, dict) else values)


def _result(input: Any, state: Any) -> Any:
    """What ``invoke`` returns, from the graph's final state."""
    if not isinstance(state, dict):
        return state
    if "__interrupt__" in state:
        resumed = input is None or isinstance(input, Command)
        latest = state.get("output") if resumed else None
        found = {"__interrupt__": state["__interrupt__"]}
        return {**latest, **found} if isinstance(latest, dict) else found
    return state.get("output")
