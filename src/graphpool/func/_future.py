"""What calling a ``@task`` returns: a future to wait on, or to await.

LangGraph's ``SyncAsyncFuture`` is a ``concurrent.futures.Future`` that can also
be awaited; :class:`TaskFuture` is the same. A waiter in a pool worker first
asks the pool to :meth:`~graphpool._pool.WorkerPool.reclaim` the call (run it
in the waiting thread if it is still queued), so tasks calling tasks never
deadlock a bounded pool (``tests/func/test_pool.py``); a call waiting on
another lends its slot of the run's ``max_concurrency`` meanwhile (``_gate``).

A call with a single attempt on a thread pool is a :class:`QueuedCall`: the
pool's own queued item, so one future per call, settled by the worker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Generator
from typing import Any, Generic, TypeVar

from .._pool._thread import ThreadItem, ThreadPool
from ._gate import awaiting, lender, waiting

__all__ = ["QueuedCall", "TaskFuture", "done_future"]

T = TypeVar("T")
_RECHECK = 0.05  # seconds between looks for a queued attempt to run here


class TaskFuture(concurrent.futures.Future[T], Generic[T]):
    """The result of one task call: ``.result()`` in sync code, ``await`` in async code."""

    def __init__(self, inner: Any = None, pool: Any = None) -> None:
        super().__init__()
        self._pool = pool  # reclaims ``inner`` for a waiter
        self._inner = inner
        if inner is None:
            return
        if isinstance(inner, concurrent.futures.Future):
            inner.add_done_callback(self._copy)
        else:  # an asyncio future of the caller's loop
            inner.add_done_callback(self._copy)

    def _copy(self, inner: Any) -> None:
        if self.done():
            return
        if inner.cancelled():
            self.cancel()
            self.set_running_or_notify_cancel()
            return
        error = inner.exception()
        if error is not None:
            self.set_exception(error)
        else:
            self.set_result(inner.result())

    def cancel(self) -> bool:
        """Cancel the call: an async one at its next ``await``, a sync one only while
        it is still queued (a running one cannot be stopped: False, as
        ``concurrent.futures`` answers, and it settles this future when it ends)."""
        inner = self._inner
        if inner is not None and not inner.done() and not inner.cancel():
            if isinstance(inner, concurrent.futures.Future):
                return False
        return super().cancel()

    def follow(self, inner: concurrent.futures.Future[Any]) -> None:
        """Wait on ``inner`` now (a new attempt); whoever made it settles this future."""
        self._inner = inner

    def result(self, timeout: float | None = None) -> T:
        """Wait for the task's value; raises what the task raised.

        While it waits, a call still queued on the pool (a first attempt, or a
        retry) is run in this thread instead (``reclaim``): a waiter never holds
        a worker that its own call needs.
        """
        if self.done():
            return super().result(timeout)
        if lender() is None:
            return self._wait(timeout)
        with waiting():  # a call waiting here lends its max_concurrency slot
            return self._wait(timeout)

    def _wait(self, timeout: float | None) -> T:
        pool = self._pool
        if pool is None:
            return super().result(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done():
            inner = self._inner
            if isinstance(inner, concurrent.futures.Future) and pool.reclaim(inner):
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            # wake now and then: a retry may have queued a new attempt to reclaim
            concurrent.futures.wait(
                [self], timeout=_RECHECK if left is None else min(left, _RECHECK)
            )
        return super().result(0 if deadline is not None else None)

    def __await__(self) -> Generator[Any, None, T]:
        if not self.done() and lender() is not None:
            return (yield from self._lending().__await__())
        return (yield from self._waited().__await__())

    def _waited(self) -> Any:
        inner = self._inner
        return inner if isinstance(inner, asyncio.Future) else asyncio.wrap_future(self)

    async def _lending(self) -> T:
        async with awaiting():  # a call waiting here lends its max_concurrency slot
            return await self._waited()

    __iter__ = __await__


def done_future(value: Any) -> TaskFuture[Any]:
    """A future that already holds ``value`` (a task result saved before)."""
    future: TaskFuture[Any] = TaskFuture()
    future.set_result(value)
    return future


class QueuedCall(ThreadItem, TaskFuture[T]):
    """A call of one attempt on a thread pool, queued as the very future its caller
    waits on: the worker settles it, no second future follows a pool's.

    For sync calls without a retry policy, a timeout or a ``max_concurrency``
    (those go through ``_attempts``); ``fn(*args)`` saves and streams the
    outcome before it returns or raises.
    """

    def __init__(self, pool: ThreadPool, lane: Any, fn: Any, args: tuple[Any, ...]) -> None:
        ThreadItem.__init__(self, pool, lane, fn, args, {})
        self._pool = pool

    def _wait(self, timeout: float | None) -> T:
        # still queued: run it here; else its one attempt settles it, nothing to poll for
        if not self.done():
            self.pool.reclaim(self)
        return concurrent.futures.Future.result(self, timeout)
