"""Process pool: CPU-heavy nodes run in worker processes, on every core.

Built on pebble, a well-kept process pool that isolates each task: a worker that
dies (``os._exit``, a signal, the OOM killer) fails only the task it was running,
and cancelling a running task kills its worker; either way pebble starts a new
worker. (loky, the other candidate, fails every in-flight task of the pool when
one worker dies, and cannot kill one task's worker.) Workers are started by a
forkserver, so they never inherit the parent's threads or locks.

Functions and arguments travel as cloudpickle bytes made in this process, so
closures and lambdas work, and a value that cannot be sent fails here, before
anything runs, with an error naming the node and the state key. Since functions
defined in the main script travel by value, workers do not re-run the main
script at start-up (plain multiprocessing would): a script that builds and runs
a graph at top level needs no ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import multiprocessing
import multiprocessing.context
import multiprocessing.spawn
import os
import pickle
import threading
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import PoolShutDownError
from ._base import WorkerPool
from ._pickling import dumps_for_worker, loads_from_worker

__all__ = [
    "ProcessPool",
    "default_process_pool",
    "dumps_for_worker",  # kept here for the runner; moved to _pickling
    "loads_from_worker",
]


_starting = threading.local()
_preparation_data = multiprocessing.spawn.get_preparation_data


def _without_main(name: str) -> dict[str, Any]:
    """multiprocessing's start-up data, minus "import the main script" for our workers."""
    data = _preparation_data(name)
    if getattr(_starting, "worker", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


multiprocessing.spawn.get_preparation_data = _without_main


class _WorkerProcess(multiprocessing.context.ForkServerProcess):
    def start(self) -> None:
        _starting.worker = True
        try:
            super().start()
        finally:
            _starting.worker = False


class _WorkerContext(multiprocessing.context.ForkServerContext):
    Process = _WorkerProcess


def _call_in_worker(payload: bytes) -> bytes:
    """Runs in the worker process: unpickle the call, run it, pickle the result."""
    import cloudpickle

    fn, arg = cloudpickle.loads(payload)
    result = fn(arg)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return cloudpickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


class ProcessPool(WorkerPool):
    """A pool of worker processes, shareable by many graphs and runs.

    Args:
        max_workers: number of worker processes (default: the number of cores).
            They are all started at once, ahead of need, to hide their start-up
            cost, and kept (a process is too dear to start per burst of work).
        queue_size: most calls waiting before new runs are held back (None: no
            bound), as for :class:`ThreadPool`.

    Calls wait in the same fair queue as a :class:`ThreadPool`'s (a lane per run,
    served in turn), with one dispatch thread per process handing them over one
    at a time, so a wide fan-out of one run cannot starve another run. ``submit``
    runs ``fn(*args)`` in a worker (standard pickle); graphpool's runtime sends
    node calls with :meth:`submit_call`, which uses cloudpickle. Abandoning a
    running call kills its worker, which the pool replaces.

    Shutting down behaves as for :class:`ThreadPool`: afterwards ``submit`` and
    ``admit`` raise :class:`~graphpool.errors.PoolShutDownError`; calls already
    submitted still run unless ``cancel=True``, which cancels their futures (and,
    a process being stoppable where a thread is not, kills the workers running
    them). A run whose node call is dropped so fails with
    :class:`~graphpool.errors.TaskCancelledError` naming the node.
    """

    kind = "process"

    def __init__(self, max_workers: int | None = None, *, queue_size: int | None = None) -> None:
        import pebble

        from ._thread import ThreadPool

        self.max_workers = max_workers or os.cpu_count() or 1
        self._pool = pebble.ProcessPool(max_workers=self.max_workers, context=_WorkerContext())
        self._front = ThreadPool(
            self.max_workers,
            min_workers=self.max_workers,
            queue_size=queue_size,
            name="graphpool-process-dispatch",
        )
        self.metrics = self._front.metrics
        self._inner: dict[concurrent.futures.Future[Any], concurrent.futures.Future[Any]] = {}
        self._lock = threading.Condition()
        self._shutdown = False
        self._pending = 0  # calls submitted whose dispatch has not ended
        self._stopped = threading.Event()  # the worker processes are stopped
        for warm in [self._pool.schedule(os.getpid) for _ in range(self.max_workers)]:
            warm.add_done_callback(lambda f: f.exception())

    def __repr__(self) -> str:
        return f"<ProcessPool workers={self.max_workers}{' shut down' if self._shutdown else ''}>"

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        return self.submit_in(None, fn, *args, **kwargs)

    def submit_in(
        self, lane: Hashable, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        outer: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                raise PoolShutDownError(f"cannot submit to {self!r}: it is shut down")
            self._pending += 1

        def dispatch() -> Any:
            inner = self._pool.schedule(fn, args=args, kwargs=kwargs)
            with self._lock:
                self._inner[outer] = inner
            try:
                return inner.result()
            finally:
                with self._lock:
                    self._inner.pop(outer, None)

        try:
            front = self._front.submit_in(lane, dispatch)
        except BaseException:
            self._dispatch_ended(None)
            raise
        front.add_done_callback(self._dispatch_ended)
        _chain(front, outer)
        return outer

    def _dispatch_ended(self, _: Any) -> None:
        with self._lock:
            self._pending -= 1
            last = self._shutdown and not self._pending
        if last:
            self._stop_workers()

    def submit_call(
        self, payload: bytes, lane: Hashable = None
    ) -> concurrent.futures.Future[bytes]:
        """Run a call pickled by :func:`dumps_for_worker`; the result is pickled bytes."""
        return self.submit_in(lane, _call_in_worker, payload)

    def admit(self, lane: Hashable, timeout: float | None = None) -> None:
        if self._shutdown:
            raise PoolShutDownError(f"cannot run on {self!r}: it is shut down")
        self._front.admit(lane, timeout)

    def release(self, lane: Hashable, seconds: float) -> None:
        self._front.release(lane, seconds)

    def stats(self) -> Any:
        return dataclasses.replace(self._front.stats(), kind=self.kind)

    def abandon(self, future: concurrent.futures.Future[Any]) -> None:
        """Cancel ``future``; if it is running, its worker process is killed and replaced."""
        with self._lock:
            inner = self._inner.get(future)
        if inner is not None:
            inner.cancel()  # pebble kills the worker running it
        future.cancel()

    def worker_pids(self) -> list[int]:
        """Pids of the live worker processes (for tests and monitoring)."""
        workers = getattr(getattr(self._pool, "_pool_manager", None), "worker_manager", None)
        return [w.pid for w in getattr(workers, "workers", {}).values() if w.is_alive()]

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False, cancel: bool = False
    ) -> None:
        """Stop the pool; later submissions raise :class:`~graphpool.errors.PoolShutDownError`.

        Without ``cancel``, calls already submitted still run, then the worker
        processes exit. With ``cancel`` (or ``cancel_futures``), queued calls are
        dropped and running ones stopped (their workers killed); the futures of
        both are cancelled. ``wait`` blocks until the workers are stopped.
        """
        with self._lock:
            first, self._shutdown = not self._shutdown, True
            running = list(self._inner.items()) if cancel or cancel_futures else []
            last = not self._pending
        if first:
            self._front.shutdown(wait=False, cancel=cancel or cancel_futures)
            for outer, inner in running:
                inner.cancel()  # pebble kills the worker running it
                outer.cancel()
            if last:
                self._stop_workers()
        if wait:
            self._stopped.wait()

    def _stop_workers(self) -> None:
        def stop() -> None:
            self._pool.stop()
            self._pool.join()
            self._stopped.set()

        threading.Thread(target=stop, name="graphpool-process-stop", daemon=True).start()


def _chain(source: concurrent.futures.Future[Any], target: concurrent.futures.Future[Any]) -> None:
    """Settle ``target`` like ``source``, and cancel ``source`` with ``target``."""

    def settle(done: concurrent.futures.Future[Any]) -> None:
        if done.cancelled():
            target.cancel()
        elif not target.cancelled() and target.set_running_or_notify_cancel():
            exc = done.exception()
            if exc is not None:
                target.set_exception(exc)
            else:
                target.set_result(done.result())

    def propagate(done: concurrent.futures.Future[Any]) -> None:
        if done.cancelled():
            source.cancel()

    source.add_done_callback(settle)
    target.add_done_callback(propagate)


_default: ProcessPool | None = None
_lock = threading.Lock()


def default_process_pool() -> ProcessPool:
    """The process-wide process pool for nodes with ``executor="process"``."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = ProcessPool()
                atexit.register(_default.shutdown, wait=True, cancel_futures=True)
    return _default
