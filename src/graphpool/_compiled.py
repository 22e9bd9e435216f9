"""``CompiledStateGraph``: the runnable graph ``StateGraph.compile()`` returns."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from ._config import RunOptions
from ._driver import drive_async, drive_sync
from ._eager import EagerRun
from ._pool import Pools, default_pool, default_process_pool, default_ray_pool
from ._scheduler import Run
from ._topology import Topology

__all__ = ["CompiledStateGraph"]

_MODES = frozenset({"values", "updates", "tasks", "debug"})
Config = Mapping[str, Any] | None


def _modes(stream_mode: str | Sequence[str]) -> tuple[list[str], bool]:
    """Requested modes, and whether chunks are ``(mode, chunk)`` tuples."""
    single = isinstance(stream_mode, str)
    modes: list[str] = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
    unknown = [m for m in modes if m not in _MODES]
    if unknown:
        raise ValueError(
            f"Unknown stream_mode {unknown[0]!r}; graphpool supports {sorted(_MODES)}."
        )
    return modes, not single


class CompiledStateGraph:
    """A validated graph, ready to run; made by :meth:`StateGraph.compile`.

    Runs follow LangGraph's superstep semantics. Sync nodes run on a thread
    pool, async nodes on an event loop; ``config={"max_workers": n}`` (or
    LangGraph's ``max_concurrency``) caps how many of a run's tasks run at once.
    """

    def __init__(
        self,
        builder: Any,
        topology: Topology,
        *,
        name: str,
        debug: bool = False,
        scheduling: str = "superstep",
        ray_pool: Any = None,
    ) -> None:
        self.builder = builder
        self.name = name
        self.debug = debug
        self.scheduling = scheduling
        self.topology = topology
        self._pools: Pools | None = None
        self._ray_pool = ray_pool

    def __repr__(self) -> str:
        return f"<CompiledStateGraph {self.name!r} nodes={list(self.topology.nodes)}>"

    @property
    def pools(self) -> Pools:
        """The pools this graph's tasks run on (the shared default pools)."""
        if self._pools is None:
            ray = self._ray_pool
            self._pools = Pools(
                default_pool(),
                default_process_pool,
                (lambda: ray) if ray is not None else default_ray_pool,
            )
        return self._pools

    def _run(self, config: Config, modes: Sequence[str]) -> Run:
        kind = EagerRun if self.scheduling == "eager" else Run
        return kind(self.topology, RunOptions.from_config(config), modes)

    # -- streaming -------------------------------------------------------------

    def stream(
        self,
        input: Any,
        config: Config = None,
        *,
        stream_mode: str | Sequence[str] = "values",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding chunks as the run goes.

        ``values``: the whole state after each step that wrote to it;
        ``updates``: ``{node: update}`` as each task finishes; ``tasks`` and
        ``debug``: task start and result events. With a list of modes, chunks
        are ``(mode, chunk)`` tuples.
        """
        modes, tagged = _modes(stream_mode)
        for mode, chunk in drive_sync(self._run(config, modes), input, self.pools):
            yield (mode, chunk) if tagged else chunk

    async def astream(
        self,
        input: Any,
        config: Config = None,
        *,
        stream_mode: str | Sequence[str] = "values",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream`: async nodes run on the caller's event loop."""
        modes, tagged = _modes(stream_mode)
        async for mode, chunk in drive_async(self._run(config, modes), input, self.pools):
            yield (mode, chunk) if tagged else chunk

    # -- one-shot --------------------------------------------------------------

    def invoke(self, input: Any, config: Config = None, **kwargs: Any) -> Any:
        """Run the graph to the end and return its final state (a dict of the output keys).

        Raises:
            GraphRecursionError: more than ``recursion_limit`` supersteps.
            InvalidUpdateError: conflicting or malformed writes.
            Exception: whatever a node raised, with its own type.
        """
        latest = None
        for _, chunk in drive_sync(self._run(config, ("values",)), input, self.pools):
            latest = chunk
        return latest

    async def ainvoke(self, input: Any, config: Config = None, **kwargs: Any) -> Any:
        """Async :meth:`invoke`."""
        latest = None
        async for _, chunk in drive_async(self._run(config, ("values",)), input, self.pools):
            latest = chunk
        return latest

    def batch(
        self,
        inputs: Sequence[Any],
        config: Config | Sequence[Config] = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Invoke once per input, concurrently; results in input order."""
        configs = _configs(config, len(inputs))
        if not inputs:
            return []

        def one(i: int) -> Any:
            try:
                return self.invoke(inputs[i], configs[i])
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        limit = _batch_limit(configs)
        with concurrent.futures.ThreadPoolExecutor(min(limit, len(inputs))) as drivers:
            return list(drivers.map(one, range(len(inputs))))

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: Config | Sequence[Config] = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async :meth:`batch`."""
        configs = _configs(config, len(inputs))
        gate = asyncio.Semaphore(_batch_limit(configs))

        async def one(i: int) -> Any:
            async with gate:
                return await self.ainvoke(inputs[i], configs[i])

        return await asyncio.gather(
            *(one(i) for i in range(len(inputs))), return_exceptions=return_exceptions
        )


def _configs(config: Config | Sequence[Config], n: int) -> list[Config]:
    if config is None or isinstance(config, Mapping):
        return [config] * n
    configs = list(config)
    if len(configs) != n:
        raise ValueError(f"batch() got {len(configs)} configs for {n} inputs.")
    return configs


def _batch_limit(configs: Sequence[Config]) -> int:
    """How many runs of a batch go at once: the first config's ``max_concurrency``."""
    first = configs[0] if configs else None
    limit = (first or {}).get("max_concurrency")
    return limit if isinstance(limit, int) and limit > 0 else 32
