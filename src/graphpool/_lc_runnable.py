"""A compiled graph as a langchain-core ``Runnable``: :class:`GraphRunnable`.

Loaded only when asked for (``graph.as_runnable()``, ``graph.with_retry()``,
``graph.astream_events()``, ...); it needs langchain-core.

``invoke``, ``ainvoke`` and ``stream`` are the graph's. ``astream`` also reports
the run to the config's callbacks, as LangGraph's graphs do, which is what
langchain-core's ``astream_events`` (and tracers) listen to:

* the graph is one chain run (named ``config["run_name"]`` or the graph's name),
  whose output chunks are the stream's chunks and whose output is the final state;
* each task is a child chain run named after its node, with the ``langgraph_*``
  metadata and a ``graph:step:N`` tag, started when the task starts (from the
  run's ``debug`` stream), its chunk and output the node's update;
* what a node calls (a chat model, a tool) reports under the graph run, through
  the callbacks in the node's config (LangGraph nests it under the node's run:
  graphpool's node configs are made per step and node, not per task yet).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Protocol

from ._lc import require
from ._lc_callbacks import TRACED

require("langchain_core.runnables", "graph.as_runnable() (with_retry, astream_events, ...)")

from langchain_core.runnables import Runnable  # noqa: E402
from langchain_core.runnables.config import get_async_callback_manager_for_config  # noqa: E402

from .errors import GraphInterrupt  # noqa: E402

try:  # the marker of handlers that see a run's output chunks; private in langchain-core
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core: no chunk events of nodes
    _StreamingCallbackHandler = None  # type: ignore[assignment,misc]

__all__ = ["GraphRunnable", "RunnableGraph"]


class RunnableGraph(Protocol):
    """What :class:`GraphRunnable` needs of the graph it runs: a compiled graph's
    name, schemas and ways to run (this adapter stands below the graph and so does
    not import it)."""

    stream_mode: str

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str: ...

    def get_input_schema(self, config: Any = None) -> Any: ...

    def get_output_schema(self, config: Any = None) -> Any: ...

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any: ...

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any: ...

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]: ...

    def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]: ...


class GraphRunnable(Runnable[Any, Any]):
    """A langchain-core ``Runnable`` that runs a compiled graph (see the module docstring)."""

    def __init__(self, graph: Any) -> None:  # the RunnableSurface mixed into a compiled graph
        self.graph: RunnableGraph = graph
        self.name = graph.get_name()

    def __repr__(self) -> str:
        return f"GraphRunnable({self.graph!r})"

    def get_input_schema(self, config: Any = None) -> Any:
        return self.graph.get_input_schema(config)

    def get_output_schema(self, config: Any = None) -> Any:
        return self.graph.get_output_schema(config)

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return self.graph.invoke(input, config, **kwargs)

    async def ainvoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        return await self.graph.ainvoke(input, config, **kwargs)

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Iterator[Any]:
        yield from self.graph.stream(input, config, **kwargs)

    async def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        """The graph's ``astream``, reported to the config's callbacks as a chain run
        with one child run per task."""
        graph = self.graph
        config = dict(config or {})
        manager = get_async_callback_manager_for_config(config)
        name = config.get("run_name") or graph.get_name()
        run = await manager.on_chain_start(None, input, name=name, run_id=config.get("run_id"))
        shape = _Shape(kwargs.pop("stream_mode", None) or graph.stream_mode, kwargs)
        tasks = _TaskRuns(run)
        final = None
        held: list[Any] = []  # updates wait for their task's end, as LangGraph orders them
        children = run.get_child()
        setattr(children, TRACED, True)  # this reports the graph's runs: the run opens none
        child = {**config, "callbacks": children}
        stream: Any = graph.astream(input, child, stream_mode=shape.run_modes, **kwargs)
        try:
            async with contextlib.aclosing(stream):  # stopped here: the run stops at once
                async for item in stream:
                    namespace, mode, chunk = shape.split(item)
                    if mode == "debug" and chunk.get("type") in ("task", "task_result"):
                        if await tasks.event(chunk):
                            for out in held:
                                yield out
                            held.clear()
                    if mode == "values":
                        final = chunk
                    if mode not in shape.modes:
                        continue
                    if mode == "updates":
                        held.append(shape.out(namespace, mode, chunk))
                        continue
                    for out in held:
                        yield out
                    held.clear()
                    yield shape.out(namespace, mode, chunk)
                for out in held:
                    yield out
        except BaseException as exc:
            await asyncio.shield(tasks.close(exc))
            await asyncio.shield(run.on_chain_error(exc))
            raise
        await run.on_chain_end(final)


class _Shape:
    """The modes the caller asked for, the ones the run makes (plus ``debug`` for the
    task runs and ``values`` for the output), and the caller's shape of a chunk."""

    def __init__(self, asked: str | list[str], kwargs: Mapping[str, Any]) -> None:
        self.single = isinstance(asked, str)
        self.modes = [asked] if isinstance(asked, str) else list(asked)
        self.run_modes = list(dict.fromkeys([*self.modes, "debug", "values"]))
        self.namespaced = bool(kwargs.get("subgraphs"))

    def split(self, item: Any) -> tuple[Any, str, Any]:
        """A run item as ``(namespace, mode, chunk)``."""
        return item if self.namespaced else ((), *item)

    def out(self, namespace: Any, mode: str, chunk: Any) -> Any:
        """What the caller's own ``astream`` call would have yielded."""
        if self.single:
            return (namespace, chunk) if self.namespaced else chunk
        return (namespace, mode, chunk) if self.namespaced else (mode, chunk)


class _TaskRuns:
    """The chain runs of one graph run's tasks, opened and closed from its debug stream."""

    def __init__(self, parent: Any) -> None:
        self.parent = parent
        self.open: dict[str, tuple[Any, Any]] = {}  # task id -> (run manager, input)

    async def event(self, chunk: Mapping[str, Any]) -> bool:
        """Open or close a task's run; True when one ended."""
        payload = chunk["payload"]
        node, task_id = payload["name"], payload["id"]
        if chunk["type"] == "task":
            step = chunk["step"]
            tag = f"graph:step:{step}"
            manager = self.parent.get_child(tag)
            manager.tags = [tag, *(t for t in manager.tags if t != tag)]  # LangGraph's order
            manager.add_metadata(
                {
                    "langgraph_step": step,
                    "langgraph_node": node,
                    "langgraph_triggers": tuple(payload["triggers"]),
                    "langgraph_path": ("__pregel_pull", node),
                    "langgraph_checkpoint_ns": f"{node}:{task_id}",
                }
            )
            run = await manager.on_chain_start(None, payload["input"], name=node)
            self.open[task_id] = (run, payload["input"])
            return False
        if payload["error"] is not None:  # the run fails with it: closed by ``close``
            return False
        entry = self.open.pop(task_id, None)
        if entry is None:
            return False
        run, given = entry
        if payload["interrupts"]:
            await run.on_chain_error(GraphInterrupt(tuple(payload["interrupts"])))
            return True
        output = payload["result"]
        await _tap(run, output)
        await run.on_chain_end(output, inputs=given)
        return True

    async def close(self, error: BaseException) -> None:
        """End the runs of tasks still open when the graph run failed or was stopped."""
        for run, _ in self.open.values():
            await run.on_chain_error(error)
        self.open.clear()


async def _tap(run: Any, output: Any) -> None:
    """Show ``output`` to the run's streaming handlers as its one chunk."""
    if _StreamingCallbackHandler is None:
        return

    async def once() -> AsyncIterator[Any]:
        yield output

    chunks: AsyncIterator[Any] = once()
    for handler in run.handlers:
        if isinstance(handler, _StreamingCallbackHandler):
            chunks = handler.tap_output_aiter(run.run_id, chunks)
    async for _ in chunks:
        pass
