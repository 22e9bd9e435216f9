"""The built-in runners: thread, process, Ray and async (see ``_registry``).

* ``thread``: the job runs on a :class:`ThreadPool` thread; a step's only job
  may run in the caller's thread instead when the pool allows it (saves a hop).
* ``process`` and ``ray``: a pool thread runs the job and sends only the node
  call to a worker process or a Ray task (routes and writes stay here); a dead
  worker becomes :class:`~graphpool.WorkerCrashedError`, and abandoning the job
  kills the worker.
* ``async``: an ``AsyncPool`` if the graph has one, else the shared background
  event loop (sync callers) or the caller's own loop (``ainvoke``/``astream``).
"""

from __future__ import annotations

import concurrent.futures
import contextvars
from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import TaskCancelledError
from ._pools import Pools
from ._registry import Done, Job, NodeRunner

__all__ = ["AsyncRunner", "CallerLoopRunner", "ProcessRunner", "RayRunner", "ThreadRunner"]


def dropped(job: Job) -> TaskCancelledError:
    return TaskCancelledError(
        f"Node {job.node!r} was cancelled before it finished: the pool running it was shut "
        f"down (attempt {job.attempt}, run {job.run_id}).",
        node=job.node,
        attempt=job.attempt,
        run_id=job.run_id,
    )


def _settle(job: Job, done: Done, future: concurrent.futures.Future[Any]) -> None:
    """A pool future of ``job`` ended: a cancelled one means its pool dropped it."""
    if future.cancelled():
        job.fail(dropped(job))
    elif (error := future.exception()) is not None:  # the job itself never raises
        job.fail(error)
    done(job)


def _remote(job: Job, pool: Any, call: Callable[..., Any], *args: Any) -> Any:
    """A node call on a pool that maps its own failures (``ProcessPool.call``,
    ``RayPool.call``); the job keeps the call's handle so a timeout can stop it."""
    handle: Any = None

    def submitted(new: Any) -> None:
        nonlocal handle
        job.handle = handle = new
        if job.abandoned:  # timed out while the call was being sent
            pool.abandon(new)

    try:
        return call(
            *args, node=job.node, attempt=job.attempt, run_id=job.run_id, submitted=submitted
        )
    finally:
        if handle is not None and job.handle is handle:
            job.handle = None


class ThreadRunner(NodeRunner):
    """Sync nodes on the pools' thread pool."""

    kind = "thread"
    call: Callable[[Job, Callable[..., Any], Any], Any] | None = None  # None: in the thread

    def __init__(self, pools: Pools) -> None:
        self.pool = pools.thread

    def start(self, job: Job, done: Done) -> Any:
        context = contextvars.copy_context()  # the caller's context vars reach the node
        args = (job.run_sync, self.call)
        return self.pool.queue_call(job.lane, context.run, args, partial(_settle, job, done))

    def run_inline(self, job: Job) -> Any:
        return job.run_sync(self.call) if self.pool.runs_inline else None

    def abandon(self, job: Job, handle: Any) -> None:
        self.pool.abandon(handle)


class ProcessRunner(ThreadRunner):
    """CPU-bound nodes: the node call runs in a worker process of ``pools.process``."""

    kind = "process"

    def __init__(self, pools: Pools) -> None:
        super().__init__(pools)
        self.pools = pools

    def run_inline(self, job: Job) -> Any:
        return None  # a pool thread waits for the worker: the caller stays free for timeouts

    def call(self, job: Job, fn: Callable[..., Any], arg: Any) -> Any:
        from ._pickling import dumps_for_worker

        payload = dumps_for_worker(job.node, fn, arg)
        process: Any = self.pools.process
        return _remote(job, process, process.call, payload, job.lane)

    def abandon(self, job: Job, handle: Any) -> None:
        if job.handle is not None:  # kills the worker process
            self.pools.process.abandon(job.handle)
        super().abandon(job, handle)


class RayRunner(ProcessRunner):
    """Nodes as Ray tasks on a Ray cluster (``pools.ray``)."""

    kind = "ray"

    def call(self, job: Job, fn: Callable[..., Any], arg: Any) -> Any:
        ray: Any = self.pools.ray
        sent = ray.input_for(job.owner, job.step, job.node, arg)
        return _remote(job, ray, ray.call, fn, sent, job.resources())

    def abandon(self, job: Job, handle: Any) -> None:
        if job.handle is not None:
            self.pools.ray.abandon(job.handle)
        ThreadRunner.abandon(self, job, handle)


class AsyncRunner(NodeRunner):
    """Async nodes on an ``AsyncPool``, or else on the shared background event loop."""

    kind = "async"

    def __init__(self, pools: Pools) -> None:
        self.pool = pools.async_pool

    def start(self, job: Job, done: Done) -> Any:
        if self.pool is not None:
            future = self.pool.submit_in(job.lane, job.run_async)
        else:
            from ._loop import submit_coroutine

            future = submit_coroutine(job.run_async(), job.node)  # named for the watchdog
        future.add_done_callback(partial(_settle, job, done))
        return future

    def abandon(self, job: Job, handle: Any) -> None:
        if self.pool is not None:
            self.pool.abandon(handle)
        else:
            handle.cancel()  # cancels the coroutine on its loop


class CallerLoopRunner(NodeRunner):
    """Async nodes of an ``ainvoke``/``astream`` run, on the caller's own event loop."""

    kind = "async"

    def __init__(self, pools: Pools) -> None:
        self.pool = None

    def start(self, job: Job, done: Done) -> Any:
        import asyncio  # only async callers get here

        task = asyncio.ensure_future(job.run_async())
        task.add_done_callback(partial(_settle, job, done))
        return task

    def run_inline(self, job: Job) -> Any:
        return job.run_async()

    def abandon(self, job: Job, handle: Any) -> None:
        handle.cancel()
