"""The pool interface every kind implements: ``concurrent.futures.Executor``'s.

A pool takes callables with ``submit(fn, *args)`` and returns
``concurrent.futures.Future`` objects; ``shutdown(wait, cancel_futures=...)``
stops it. The scheduler never knows which kind it talks to.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

from ._registry import NodeRunner, runner_for

__all__ = ["Pools", "WorkerPool"]


class WorkerPool(concurrent.futures.Executor):
    """Base class of graphpool's pools.

    Attributes:
        kind: ``"thread"``, ``"process"``, ``"async"`` or ``"ray"``.
        runs_inline: whether a run may execute a step's only task in the
            caller's thread instead of handing it over (saves a thread hop; only
            sensible where the worker would be a thread of this process anyway).
    """

    kind: ClassVar[str]
    runs_inline: bool = False

    def submit_in(
        self, lane: Hashable, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """``submit`` on behalf of a run; pools that queue fairly serve runs in turn."""
        return self.submit(fn, *args, **kwargs)

    def admit(self, lane: Hashable, timeout: float | None = None) -> None:
        """Let a new run in; bounded pools hold it back or raise ``PoolSaturatedError``."""

    def release(self, lane: Hashable, seconds: float) -> None:
        """A run admitted with :meth:`admit` ended after ``seconds``."""

    def abandon(self, future: concurrent.futures.Future[Any]) -> None:
        """Stop ``future``'s work as well as this kind of pool can (used on timeouts).

        The default cancels it, which only helps while it is queued; pools that
        can stop running work (kill a process, replace a thread) override this.
        """
        future.cancel()


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
