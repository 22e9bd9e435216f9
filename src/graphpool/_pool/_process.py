"""Process pool: CPU-heavy nodes run in worker processes, as many as there is work for.

How a call flows::

    submit_in(run, fn) --> front ThreadPool --> dispatch thread --> worker process
                           (a lane per run,     checks a worker     (a pebble pool of one:
                           served in turn;      out of the          runs fn, sends back the
                           admission)           WorkerSet           result or the exception)

* Scaling (``_workerset.py``): a worker process starts when a call is
  dispatched and none is idle, up to ``max_workers``; one idle for
  ``idle_timeout`` seconds exits, down to ``min_workers``, which are kept
  warm. Workers are forked from a fork server with graphpool preloaded
  (``_worker.py``), so a start costs a fork, not an interpreter start.
* Bounded: at most ``max_workers`` dispatch threads, each holding at most one
  worker, and the worker set never makes more than ``max_workers``.
* Isolation: a worker that dies (``os._exit``, a signal, the OOM killer) fails
  only its call, with pebble's ``ProcessExpired``, which :meth:`ProcessPool.result`
  maps to :class:`~graphpool.WorkerCrashedError`; abandoning a running call kills
  its process. Either way the worker gets a new process. (A pebble pool of N
  processes has a fixed size; loky fails every in-flight call of the pool when
  one worker dies, and cannot kill one call's worker.)

Functions and arguments travel as cloudpickle bytes made in this process
(``_pickling.py``), so closures and lambdas work, and a value that cannot be
sent fails here, before anything runs, naming the node and the state key.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import dataclasses
import os
import threading
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import (
    InvalidPoolConfigError,
    PoolShutDownError,
    TaskCancelledError,
    WorkerCrashedError,
)
from . import _validate
from ._base import WorkerPool
from ._pickling import dumps_for_worker, loads_from_worker
from ._stats import PoolStats
from ._workerset import WorkerSet

__all__ = [
    "ProcessPool",
    "default_process_pool",
    "dumps_for_worker",  # kept here for the runner; they live in _pickling
    "loads_from_worker",
]


Future = concurrent.futures.Future


class ProcessPool(WorkerPool):
    """A pool of worker processes that grows with demand; shareable by many graphs and runs.

    Args:
        max_workers: most worker processes at once (default: the number of cores).
        min_workers: processes kept alive while idle (default 0: an idle program
            holds no workers; a new one is a fork of the preloaded fork server).
        idle_timeout: seconds an idle process above ``min_workers`` waits before
            exiting.
        queue_size: most calls waiting before new runs are held back (None: no
            bound), as for :class:`ThreadPool`.

    Calls wait in the same fair queue as a :class:`ThreadPool`'s (a lane per run,
    served in turn), with at most one dispatch thread per process handing them
    over one at a time, so a wide fan-out of one run cannot starve another run.
    ``submit`` runs ``fn(*args)`` in a worker (standard pickle); graphpool's
    runtime sends node calls with :meth:`submit_call` (cloudpickle) and reads
    them with :meth:`result`. Abandoning a running call kills its worker, which
    the pool replaces.

    Shutting down behaves as for :class:`ThreadPool`: afterwards ``submit`` and
    ``admit`` raise :class:`~graphpool.errors.PoolShutDownError`; calls already
    submitted still run unless ``cancel=True``, which cancels their futures (and,
    a process being stoppable where a thread is not, kills the workers running
    them). A run whose node call is dropped so fails with
    :class:`~graphpool.errors.TaskCancelledError` naming the node.

    Raises:
        InvalidPoolConfigError: a parameter has a bad type or value (named in
            the message).
    """

    kind = "process"

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        min_workers: int = 0,
        idle_timeout: float = 30.0,
        queue_size: int | None = None,
    ) -> None:
        from . import _worker  # noqa: F401  (how workers start; loaded with the first pool)
        from ._thread import ThreadPool

        if max_workers is None:
            max_workers = os.cpu_count() or 1
        self.max_workers = _validate.count("ProcessPool", "max_workers", max_workers, 1)
        self.min_workers = _validate.count("ProcessPool", "min_workers", min_workers, 0)
        if self.min_workers > self.max_workers:
            raise InvalidPoolConfigError(
                f"ProcessPool(max_workers={max_workers!r}, min_workers={min_workers!r}): "
                "min_workers must be <= max_workers."
            )
        self.idle_timeout = _validate.seconds("ProcessPool", "idle_timeout", idle_timeout)
        _validate.optional_count("ProcessPool", "queue_size", queue_size, 1)
        self._front = ThreadPool(
            self.max_workers,
            idle_timeout=min(self.idle_timeout, 60.0),
            queue_size=queue_size,
            name="graphpool-process-dispatch",
        )
        self.metrics = self._front.metrics
        self._workers = WorkerSet(self.max_workers, self.min_workers, self.idle_timeout)
        self._lock = threading.Lock()
        self._inner: dict[Future[Any], Future[Any]] = {}  # a call's future -> pebble's
        self._abandoned: set[Future[Any]] = set()
        self._pending: set[Future[Any]] = set()  # submitted, dispatch not ended
        self._shutdown = self._cancelled = False

    def __repr__(self) -> str:
        workers, busy, _ = self._workers.counts()
        return (
            f"<ProcessPool workers={workers} busy={busy} max={self.max_workers}"
            f"{' shut down' if self._shutdown else ''}>"
        )

    # -- submitting ----------------------------------------------------------------

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.submit_in(None, fn, *args, **kwargs)

    def submit_in(
        self, lane: Hashable, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        """Like ``submit``, queued in ``lane`` (a run): lanes are served in turn."""
        outer: Future[Any] = Future()
        with self._lock:
            if self._shutdown:
                raise PoolShutDownError(f"cannot submit to {self!r}: it is shut down")
            self._pending.add(outer)
        try:
            front = self._front.submit_in(lane, self._dispatch, outer, fn, args, kwargs)
        except BaseException:
            self._ended(outer, None)
            raise
        front.add_done_callback(lambda f: self._ended(outer, f))
        _chain(front, outer)
        return outer

    # -- node calls ----------------------------------------------------------------

    def submit_call(self, payload: bytes, lane: Hashable = None) -> Future[bytes]:
        """Run a call pickled by :func:`dumps_for_worker`; the result is pickled bytes."""
        from ._worker import call_in_worker

        return self.submit_in(lane, call_in_worker, payload)

    def result(
        self, future: Future[bytes], *, node: str, attempt: int = 1, run_id: str = ""
    ) -> Any:
        """Wait for a call :meth:`submit_call` started; return what the node returned.

        Raises:
            Exception: the node's own exception, with its type (the worker's
                traceback chained as its cause).
            WorkerCrashedError: the worker process running it died.
            TaskCancelledError: the call was dropped or stopped before it
                finished: the pool shut down, or it was abandoned.
        """
        import pebble

        try:
            data = future.result()
        except concurrent.futures.CancelledError as exc:
            why = "the pool running it was shut down" if self._shutdown else "it was abandoned"
            raise TaskCancelledError(
                f"Node {node!r} was cancelled before it finished: {why} (attempt {attempt}, "
                f"run {run_id}).",
                node=node,
                attempt=attempt,
                run_id=run_id,
            ) from exc
        except pebble.ProcessExpired as exc:
            raise WorkerCrashedError(
                f"The worker process running node {node!r} died ({_exit_reason(exc)}; attempt "
                f"{attempt}, run {run_id}).",
                node=node,
                attempt=attempt,
                run_id=run_id,
            ) from exc
        return loads_from_worker(data)

    def call(
        self,
        payload: bytes,
        lane: Hashable = None,
        *,
        node: str,
        attempt: int = 1,
        run_id: str = "",
        submitted: Callable[[Future[bytes]], None] | None = None,
    ) -> Any:
        """Run one node call in a worker and wait for it: :meth:`submit_call`, then :meth:`result`.

        Args:
            payload: ``dumps_for_worker(node, fn, arg)``.
            lane: the run, for the fair queue.
            node, attempt, run_id: named in the errors.
            submitted: called with the call's future once it is queued, so the
                caller can :meth:`abandon` it (a timeout kills the worker).

        Raises:
            As :meth:`result`; a pool already shut down is a ``TaskCancelledError``
            too, chained from :class:`~graphpool.errors.PoolShutDownError`.
        """
        try:
            future = self.submit_call(payload, lane)
        except PoolShutDownError as exc:
            raise TaskCancelledError(
                f"Node {node!r} was not started: {exc} (attempt {attempt}, run {run_id}).",
                node=node,
                attempt=attempt,
                run_id=run_id,
            ) from exc
        if submitted is not None:
            submitted(future)
        return self.result(future, node=node, attempt=attempt, run_id=run_id)

    def admit(self, lane: Hashable, timeout: float | None = None) -> None:
        if self._shutdown:
            raise PoolShutDownError(f"cannot run on {self!r}: it is shut down")
        self._front.admit(lane, timeout)

    def release(self, lane: Hashable, seconds: float) -> None:
        self._front.release(lane, seconds)

    # -- dispatching (on a front thread) -------------------------------------------

    def _dispatch(self, outer: Future[Any], fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        if outer.cancelled():  # given up on while a dispatch thread took it
            raise concurrent.futures.CancelledError()
        worker = self._workers.checkout(outer)
        if worker is None:  # shut down with cancel=True while this call waited
            raise concurrent.futures.CancelledError()
        try:
            try:
                inner = worker.run(fn, args, kwargs)
            except RuntimeError:  # its process was killed while idle: use a fresh worker
                worker = self._workers.replace(outer, worker)
                inner = worker.run(fn, args, kwargs)
            with self._lock:
                self._inner[outer] = inner
                stop = outer in self._abandoned or self._cancelled
            if stop:
                inner.cancel()  # pebble kills the process running it
            return worker.result(inner)
        finally:
            with self._lock:
                self._inner.pop(outer, None)
            self._workers.checkin(outer, worker)

    def _ended(self, outer: Future[Any], _: Any) -> None:
        with self._lock:
            self._pending.discard(outer)
            self._abandoned.discard(outer)
            finished = self._shutdown and not self._pending
        if finished:
            self._workers.finish()

    # -- control -------------------------------------------------------------------

    def abandon(self, future: Future[Any]) -> None:
        """Cancel ``future``; if it is running, its worker process is killed and replaced."""
        with self._lock:
            if future in self._pending:
                self._abandoned.add(future)
            inner = self._inner.get(future)
        if inner is not None:
            inner.cancel()  # pebble kills the worker running it
        future.cancel()

    def stats(self) -> PoolStats:
        """As :meth:`ThreadPool.stats`; ``workers``, ``busy`` and ``idle`` count processes."""
        workers, busy, idle = self._workers.counts()
        front = self._front.stats()
        return dataclasses.replace(front, kind=self.kind, workers=workers, busy=busy, idle=idle)

    def worker_pids(self) -> list[int]:
        """Pids of the live worker processes (for tests and monitoring)."""
        return self._workers.pids()

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False, cancel: bool = False
    ) -> None:
        """Stop the pool; later submissions raise :class:`~graphpool.errors.PoolShutDownError`.

        Without ``cancel``, calls already submitted still run, then the worker
        processes exit. With ``cancel`` (or ``cancel_futures``), queued calls are
        dropped and running ones stopped (their workers killed); the futures of
        both are cancelled. ``wait`` blocks until every worker process is stopped.
        """
        cancel = cancel or cancel_futures
        with self._lock:
            first, self._shutdown = not self._shutdown, True
            self._cancelled = self._cancelled or cancel
            running = list(self._inner.values()) if cancel else []
            pending = list(self._pending) if cancel else []
            finished = not self._pending
        if cancel:
            self._workers.cancel()
        if first:
            self._front.shutdown(wait=False, cancel=cancel)
        for inner in running:
            inner.cancel()  # pebble kills the worker running it
        for outer in pending:
            outer.cancel()
        if finished:
            self._workers.finish()
        if wait:
            self._workers.join()


def _exit_reason(exc: Any) -> str:
    """How a worker ended, from pebble's ``ProcessExpired``."""
    import signal

    code = getattr(exc, "exitcode", None)
    if isinstance(code, int) and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}" if isinstance(code, int) else str(exc)


def _chain(source: Future[Any], target: Future[Any]) -> None:
    """Settle ``target`` like ``source``, and cancel ``source`` with ``target``."""

    def settle(done: Future[Any]) -> None:
        if done.cancelled():
            target.cancel()
        elif not target.cancelled() and target.set_running_or_notify_cancel():
            exc = done.exception()
            if exc is not None:
                target.set_exception(exc)
            else:
                target.set_result(done.result())

    def propagate(done: Future[Any]) -> None:
        if done.cancelled():
            source.cancel()

    source.add_done_callback(settle)
    target.add_done_callback(propagate)


_default: ProcessPool | None = None
_lock = threading.Lock()


def default_process_pool() -> ProcessPool:
    """The process-wide process pool for nodes with ``executor="process"``.

    Sized by ``GRAPHPOOL_PROCESS_WORKERS``, ``GRAPHPOOL_PROCESS_MIN_WORKERS`` (started at
    once, kept warm) and ``GRAPHPOOL_PROCESS_IDLE_TIMEOUT`` when set.
    """
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                from .._env import settings

                _default = ProcessPool(**settings().process_options())  # GRAPHPOOL_PROCESS_*
                atexit.register(_default.shutdown, wait=True, cancel_futures=True)
    return _default
