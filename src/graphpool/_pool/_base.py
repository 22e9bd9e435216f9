"""The pool interface every kind implements: ``concurrent.futures.Executor``'s.

A pool takes callables with ``submit(fn, *args)`` and returns
``concurrent.futures.Future`` objects; ``shutdown(wait, cancel_futures=...)``
stops it. The scheduler never knows which kind it talks to.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

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
    wait); ``process`` is created on first use, so graphs without process nodes
    never start one; ``primary`` is the pool the caller chose, which admits
    runs (backpressure) and records their metrics.
    """

    def __init__(
        self,
        thread: WorkerPool,
        process: Callable[[], WorkerPool],
        primary: WorkerPool | None = None,
        async_pool: WorkerPool | None = None,
    ) -> None:
        self.thread = thread
        self.primary = primary or thread  # admits runs, keeps their metrics
        self.async_pool = async_pool  # None: async nodes run on the driver's loop
        self._process_factory = process
        self._process: WorkerPool | None = None

    @property
    def process(self) -> WorkerPool:
        if self._process is None:
            self._process = self._process_factory()
        return self._process
