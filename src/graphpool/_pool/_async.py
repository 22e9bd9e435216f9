"""Async pool: coroutines of many runs on one event loop, bounded, fair and measured.

An ``AsyncPool`` owns an event loop in a thread of its own. At most
``max_workers`` coroutines run at once (thousands are fine: they are only
awaiting); the rest wait in the same fair queue as the other pool kinds, one
lane per run, with the same admission control (``queue_size``). Give it to
``compile(pool=...)`` and the graph's ``async def`` nodes run there, for every
caller, sync or async.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import PoolShutDownError
from . import _validate
from ._base import WorkerPool
from ._queue import TaskQueue
from ._stats import PoolMetrics, PoolStats

__all__ = ["AsyncPool"]

CoroutineFn = Callable[..., Any]  # returns a coroutine


class _Job:
    __slots__ = ("args", "enqueued", "fn", "future", "lane", "task")

    def __init__(self, lane: Hashable, fn: CoroutineFn, args: tuple[Any, ...]) -> None:
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.lane, self.fn, self.args = lane, fn, args
        self.enqueued = time.monotonic()
        self.task: asyncio.Task[Any] | None = None


class AsyncPool(WorkerPool):
    """Runs coroutine functions on its own event loop, at most ``max_workers`` at once.

    Args:
        max_workers: most coroutines in flight.
        queue_size: most coroutines waiting before new runs are held back (None: no bound).

    Raises:
        InvalidPoolConfigError: a parameter has a bad type or value (named in
            the message).

    ``submit``, ``submit_in`` and ``admit`` raise ``PoolShutDownError`` after
    :meth:`shutdown`.
    """

    kind = "async"

    def __init__(self, max_workers: int = 10_000, *, queue_size: int | None = None) -> None:
        self.max_workers = _validate.count("AsyncPool", "max_workers", max_workers, 1)
        queue_size = _validate.optional_count("AsyncPool", "queue_size", queue_size, 1)
        self.metrics = PoolMetrics()
        self._queue: TaskQueue[_Job] = TaskQueue(queue_size, self.metrics)
        self._running: dict[concurrent.futures.Future[Any], _Job] = {}
        self._shutdown = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="graphpool-async-pool", daemon=True
        )
        self._thread.start()

    def __repr__(self) -> str:
        return (
            f"<AsyncPool running={len(self._running)} queued={self._queue.depth} "
            f"max={self.max_workers}{' shut down' if self._shutdown else ''}>"
        )

    def submit(
        self, fn: CoroutineFn, /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Run ``await fn(*args)`` on the pool's loop."""
        return self.submit_in(None, fn, *args)

    def submit_in(
        self, lane: Hashable, fn: CoroutineFn, /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        if kwargs:
            args = (*args, kwargs)  # not used by graphpool; kept simple
        job = _Job(lane, fn, args)
        with self._queue.lock:
            if self._shutdown:
                raise PoolShutDownError(f"cannot submit to {self!r}: it is shut down")
            if len(self._running) < self.max_workers:
                self._running[job.future] = job
            else:
                self._queue.push(lane, job)
                return job.future
        self._loop.call_soon_threadsafe(self._start, job)
        return job.future

    def _start(self, job: _Job) -> None:
        """On the loop: run ``job`` (it holds a slot already)."""
        if not job.future.set_running_or_notify_cancel():
            self._finish(job)
            return
        self.metrics.task_started(time.monotonic() - job.enqueued)
        job.task = self._loop.create_task(job.fn(*job.args))
        job.task.add_done_callback(lambda done: self._settle(job, done))

    def _settle(self, job: _Job, done: asyncio.Task[Any]) -> None:
        # counted and freed first: whoever the future wakes sees the pool's stats
        # already include this job (tests/test_pool_shared.py reads them at once)
        self.metrics.task_finished()
        self._finish(job)
        if done.cancelled():
            job.future.cancel()
        elif (exc := done.exception()) is not None:
            job.future.set_exception(exc)
        else:
            job.future.set_result(done.result())

    def _finish(self, job: _Job) -> None:
        """On the loop: free ``job``'s slot and hand it to the next queued job."""
        with self._queue.lock:
            self._running.pop(job.future, None)
            nxt = self._queue.pop()
            if nxt is not None:
                self._queue.started()
                self._running[nxt.future] = nxt
        if nxt is not None:
            self._start(nxt)

    def admit(self, lane: Hashable, timeout: float | None = None) -> None:
        if self._shutdown:
            raise PoolShutDownError(f"cannot run on {self!r}: it is shut down")
        self._queue.admit(self, timeout)

    def release(self, lane: Hashable, seconds: float) -> None:
        for job in self._queue.release(lane, seconds):
            job.future.cancel()

    def abandon(self, future: concurrent.futures.Future[Any]) -> None:
        """Cancel a queued job, or the running coroutine on the pool's loop."""
        if future.cancel():
            return
        with self._queue.lock:
            job = self._running.get(future)
        if job is not None and job.task is not None:
            self._loop.call_soon_threadsafe(job.task.cancel)

    def stats(self) -> PoolStats:
        with self._queue.lock:
            busy, queued, runs = len(self._running), self._queue.depth, self._queue.active_runs
        idle = self.max_workers - busy
        return self.metrics.snapshot(self.kind, self.max_workers, busy, idle, queued, runs)

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False, cancel: bool = False
    ) -> None:
        """Stop the pool: ``wait`` lets queued and running coroutines finish; ``cancel``
        cancels them."""
        with self._queue.lock:
            if self._shutdown:
                return
            self._shutdown = True
            dropped = self._queue.drain() if cancel or cancel_futures else []
            running = list(self._running.values())
        for job in dropped:
            job.future.cancel()
        if cancel or cancel_futures:
            for job in running:
                if job.task is not None:
                    self._loop.call_soon_threadsafe(job.task.cancel)
        if wait:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with self._queue.lock:
                    if not self._running and not self._queue.depth:
                        break
                time.sleep(0.01)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if wait:
            self._thread.join(10)
