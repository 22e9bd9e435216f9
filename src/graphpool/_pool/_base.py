"""The pool interface every kind implements: ``concurrent.futures.Executor``'s.

A pool takes callables with ``submit(fn, *args)`` and returns
``concurrent.futures.Future`` objects; ``shutdown(wait, cancel_futures=...)``
stops it. The scheduler never knows which kind it talks to.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Hashable
from typing import Any, ClassVar

__all__ = ["WorkerPool"]


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

    def queue_call(
        self,
        lane: Hashable,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_end: Callable[[concurrent.futures.Future[Any]], None],
    ) -> concurrent.futures.Future[Any]:
        """``submit_in`` for a caller that never waits on the future: ``on_end(future)``
        is called once the call ended (ran, raised, or was cancelled). Pools may hand
        out a lighter future for it (see :meth:`ThreadPool.queue_call`)."""
        future = self.submit_in(lane, fn, *args)
        future.add_done_callback(on_end)
        return future

    def admit(self, lane: Hashable, timeout: float | None = None) -> None:
        """Let a new run in; bounded pools hold it back or raise ``PoolSaturatedError``."""

    def release(self, lane: Hashable, seconds: float) -> None:
        """A run admitted with :meth:`admit` ended after ``seconds``."""

    def reclaim(self, future: concurrent.futures.Future[Any]) -> bool:
        """Run ``future``'s call in the calling thread if it still waits; True if it
        ran. Only pools whose workers are threads of this process can (see
        :meth:`ThreadPool.reclaim`); the default says no."""
        return False

    def abandon(self, future: concurrent.futures.Future[Any]) -> None:
        """Stop ``future``'s work as well as this kind of pool can (used on timeouts).

        The default cancels it, which only helps while it is queued; pools that
        can stop running work (kill a process, replace a thread) override this.
        """
        future.cancel()
