"""Thread pool: sync nodes (I/O-bound work) on threads that come and go with demand.

Unlike ``concurrent.futures.ThreadPoolExecutor`` it shrinks: a thread idle for
``idle_timeout`` seconds exits (down to ``min_workers``), and a new one starts
whenever work is queued while no thread is idle (up to ``max_workers``).
"""

from __future__ import annotations

import concurrent.futures
import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

from ._base import WorkerPool

__all__ = ["ThreadPool", "default_pool"]

_STOP = object()
DEFAULT_MAX_THREADS = 256
"""Threads of the shared default pool: enough for wide I/O fan-outs, bounded all the same."""


class ThreadPool(WorkerPool):
    """A dynamic pool of threads.

    Args:
        max_workers: most threads at once.
        min_workers: threads kept alive while idle.
        idle_timeout: seconds an idle thread above ``min_workers`` waits before exiting.
        name: prefix of the threads' names.
    """

    kind = "thread"
    runs_inline = True
    _ids = itertools.count()

    def __init__(
        self,
        max_workers: int = DEFAULT_MAX_THREADS,
        *,
        min_workers: int = 0,
        idle_timeout: float = 30.0,
        name: str = "graphpool-thread",
    ) -> None:
        if max_workers < 1 or min_workers < 0 or min_workers > max_workers:
            raise ValueError(
                f"ThreadPool needs 0 <= min_workers <= max_workers and max_workers >= 1, got "
                f"min_workers={min_workers}, max_workers={max_workers}."
            )
        self.max_workers = max_workers
        self.min_workers = min_workers
        self.idle_timeout = idle_timeout
        self._name = f"{name}-{next(self._ids)}"
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._shutdown = False

    def __repr__(self) -> str:
        return (
            f"<ThreadPool {self._name} threads={len(self._threads)} idle={self._idle} "
            f"max={self.max_workers}{' shut down' if self._shutdown else ''}>"
        )

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError(f"cannot submit to {self!r}: it is shut down")
            self._queue.put((future, fn, args, kwargs))
            self._grow_if_needed()
        return future

    def _grow_if_needed(self) -> None:
        """Start a thread if more items wait than threads sit idle (call under the lock).

        Never after shutdown: ``shutdown`` queued one stop per thread it knew of,
        and a new thread would take one of them, leaving an old thread running.
        """
        if self._shutdown:
            return
        if self._queue.qsize() > self._idle and len(self._threads) < self.max_workers:
            thread = threading.Thread(
                target=self._work, name=f"{self._name}_{len(self._threads)}", daemon=True
            )
            self._threads.add(thread)
            thread.start()

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            with self._lock:
                self._idle += 1
            try:
                item = self._queue.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._queue.empty() and len(self._threads) > self.min_workers:
                        self._threads.discard(me)
                        return
                continue
            with self._lock:
                self._idle -= 1
                if item is _STOP:
                    self._threads.discard(me)
                    return
                # Items submitted while this thread was counted idle did not start
                # a thread of their own; make up for it now that this one is busy.
                self._grow_if_needed()
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del item, future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            threads = list(self._threads)
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not _STOP:
                        item[0].cancel()
            for _ in threads:
                self._queue.put(_STOP)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def statistics(self) -> tuple[int, int]:
        """``(threads, idle threads)`` right now."""
        with self._lock:
            return len(self._threads), self._idle


_default: ThreadPool | None = None
_default_lock = threading.Lock()


def default_pool() -> ThreadPool:
    """The process-wide thread pool used by runs that name no pool."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ThreadPool(name="graphpool-default")
    return _default
