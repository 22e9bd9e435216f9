"""The pools one graph's runs use, by executor kind, and the runners over them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from ._base import WorkerPool
from ._registry import NodeRunner, runner_for

__all__ = ["Pools"]


class Pools:
    """The pools a run's tasks go to, by executor kind.

    ``thread`` runs sync nodes (and hosts process and Ray calls while they
    wait); ``process`` and ``ray`` are created on first use, so graphs without
    such nodes never start a process pool or connect to Ray; ``primary`` is
    the pool the caller chose, which admits runs (backpressure) and records
    their metrics; ``async_pool``, if given, runs async nodes.
    """

    def __init__(
        self,
        thread: WorkerPool,
        process: Callable[[], WorkerPool],
        primary: WorkerPool | None = None,
        async_pool: WorkerPool | None = None,
        ray: Callable[[], WorkerPool] | None = None,
    ) -> None:
        self.thread = thread
        self.primary = primary or thread  # admits runs, keeps their metrics
        self.async_pool = async_pool  # None: async nodes run on the driver's loop
        self._factories = {"process": process}
        if ray is not None:
            self._factories["ray"] = ray
        self._made: dict[str, WorkerPool] = {}
        self._runners: dict[str, NodeRunner] = {}
        self._lock = threading.Lock()  # pool threads may ask for a pool at once

    @property
    def process(self) -> WorkerPool:
        return self.of("process")

    @property
    def ray(self) -> WorkerPool:
        return self.of("ray")

    def of(self, kind: str) -> WorkerPool:
        """The pool for executor ``kind`` ("thread", "process" or "ray")."""
        if kind == "thread":
            return self.thread
        pool = self._made.get(kind)
        if pool is None:
            with self._lock:
                pool = self._made.get(kind)
                if pool is None:
                    pool = self._made[kind] = self._factory(kind)()
        return pool

    def runner(self, kind: str) -> NodeRunner:
        """The runner for executor ``kind`` over these pools (made once)."""
        runner = self._runners.get(kind)
        if runner is None:
            runner = self._runners[kind] = runner_for(kind, self)
        return runner

    def _factory(self, kind: str) -> Callable[[], WorkerPool]:
        factory = self._factories.get(kind)
        if factory is None and kind == "ray":
            from ._ray import default_ray_pool

            factory = default_ray_pool
        if factory is None:
            from ..errors import InvalidConfigError

            raise InvalidConfigError(f"no {kind!r} pool")
        return factory
