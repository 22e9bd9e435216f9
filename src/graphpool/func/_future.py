"""What calling a ``@task`` returns: a future to wait on, or to await.

LangGraph's ``SyncAsyncFuture`` is a ``concurrent.futures.Future`` that can also
be awaited; :class:`TaskFuture` is the same. A waiter in a pool worker first
asks the pool to :meth:`~graphpool._pool.WorkerPool.reclaim` the call (run it
in the waiting thread if it is still queued), so tasks calling tasks never
deadlock a bounded pool (``tests/func/test_pool.py``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Generator
from typing import Any, Generic, TypeVar

__all__ = ["TaskFuture", "done_future"]

T = TypeVar("T")


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
        it is still queued; the future itself is cancelled either way."""
        inner = self._inner
        if inner is not None and not inner.done():
            inner.cancel()
        return super().cancel()

    def result(self, timeout: float | None = None) -> T:
        """Wait for the task's value; raises what the task raised."""
        inner, pool = self._inner, self._pool
        if not self.done() and pool is not None and isinstance(inner, concurrent.futures.Future):
            pool.reclaim(inner)  # still queued: run it here instead of blocking a worker
        return super().result(timeout)

    def __await__(self) -> Generator[Any, None, T]:
        inner = self._inner
        if isinstance(inner, asyncio.Future):
            return (yield from inner.__await__())
        return (yield from asyncio.wrap_future(self).__await__())

    __iter__ = __await__


def done_future(value: Any) -> TaskFuture[Any]:
    """A future that already holds ``value`` (a task result saved before)."""
    future: TaskFuture[Any] = TaskFuture()
    future.set_result(value)
    return future
