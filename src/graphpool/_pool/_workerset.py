"""The worker processes of a :class:`ProcessPool`: as many as there is work for.

A dispatch thread *checks out* a worker for one call and *checks it in* after:

* an idle worker is reused, the most recently used first, so the others age out;
* if none is idle and fewer than ``max_workers`` exist, a new one is made (its
  process starts with its first call, in the dispatch thread);
* otherwise the thread waits for a check-in: never more than ``max_workers``.

A keeper thread starts workers up to ``min_workers`` (kept warm), stops those
idle for ``idle_timeout`` beyond that, stops broken ones, and once the pool is
finished stops them all.

Each worker is a pebble pool of one process. pebble carries the call and its
result or exception (with the remote traceback), notices a process that dies
(only that call fails, with pebble's ``ProcessExpired``) and starts a new
process; cancelling a running call kills its process the same way.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

__all__ = ["Worker", "WorkerSet"]

log = logging.getLogger("graphpool")


class Worker:
    """One worker process: a pebble pool of one, so a crash or a kill touches one call."""

    __slots__ = ("idle_since", "pool", "started")

    def __init__(self) -> None:
        import pebble

        from ._worker import WORKER_CONTEXT, exit_with_host

        self.pool = pebble.ProcessPool(
            max_workers=1, context=WORKER_CONTEXT, initializer=exit_with_host
        )
        self.idle_since = 0.0
        self.started = False

    def run(self, fn: Callable[..., Any], args: Any, kwargs: Any) -> Future[Any]:
        """Start ``fn(*args, **kwargs)``, starting the process first if there is none.

        Raises:
            RuntimeError: pebble's, if this worker broke (its process was killed
            while idle); the caller replaces the worker.
        """
        future: Future[Any] = self.pool.schedule(fn, args=args, kwargs=kwargs)
        self.started = True
        return future

    def result(self, future: Future[Any]) -> Any:
        """Wait for a call :meth:`run` started; a dead process raises ``ProcessExpired``.

        pebble reports a process that dies before it has told the pool it took
        the call as a broken pool ("All workers expired"); in a pool of one
        process running one call, that too is this call's process dying.
        """
        from concurrent.futures.process import BrokenProcessPool

        import pebble

        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise pebble.ProcessExpired(f"Abnormal termination ({exc})") from exc

    def usable(self) -> bool:
        """Whether pebble still runs this worker (it replaces a process that died)."""
        return self.started and self.pool.active

    def pids(self) -> list[int]:
        workers = getattr(getattr(self.pool, "_pool_manager", None), "worker_manager", None)
        return [w.pid for w in list(getattr(workers, "workers", {}).values()) if w.is_alive()]

    def stop(self) -> None:
        """Kill the process (if any) and end pebble's threads for it."""
        try:
            self.pool.stop()
            self.pool.join()
        except Exception:  # a pool that never started or already broke
            log.debug("stopping a process worker failed", exc_info=True)


class WorkerSet:
    """Between ``min_workers`` and ``max_workers`` worker processes (see the module doc)."""

    def __init__(self, max_workers: int, min_workers: int, idle_timeout: float) -> None:
        self.max_workers, self.min_workers, self.idle_timeout = (
            max_workers,
            min_workers,
            idle_timeout,
        )
        self._lock = threading.Condition()
        self._idle: list[Worker] = []  # the most recently used last
        self._busy: dict[Hashable, Worker] = {}  # a call -> the worker running it
        self._doomed: list[Worker] = []  # for the keeper to stop
        self._every: set[Worker] = set()  # made and not yet stopped
        self._starting = 0  # warm workers the keeper is starting
        self._cancelled = self._finishing = False
        self._stopped = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name="graphpool-process-keeper")
        self._keeper.daemon = True
        self._keeper.start()

    # -- for dispatch threads ------------------------------------------------------

    def checkout(self, call: Hashable) -> Worker | None:
        """A worker for ``call``; None once cancelled (see :meth:`cancel`)."""
        with self._lock:
            while not self._cancelled:
                if self._idle:
                    worker = self._idle.pop()
                    break
                if len(self._every) + self._starting < self.max_workers:
                    worker = Worker()
                    self._every.add(worker)
                    break
                self._lock.wait()  # every worker is busy, or still starting
            else:
                return None
            self._busy[call] = worker
        return worker

    def replace(self, call: Hashable, worker: Worker) -> Worker:
        """A fresh worker for ``call`` in place of ``worker``, which broke."""
        fresh = Worker()
        with self._lock:
            self._every.add(fresh)
            self._busy[call] = fresh
            self._retire(worker)
        return fresh

    def checkin(self, call: Hashable, worker: Worker) -> None:
        """``call`` is over: its worker is idle again (or stopped if it broke)."""
        usable = worker.usable()
        with self._lock:
            self._busy.pop(call, None)
            if usable and not self._cancelled:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
            else:
                self._retire(worker)
            self._lock.notify_all()

    def _retire(self, worker: Worker) -> None:
        self._every.discard(worker)
        self._doomed.append(worker)
        self._lock.notify_all()

    # -- for the pool ----------------------------------------------------------------

    def counts(self) -> tuple[int, int, int]:
        """``(workers, busy, idle)`` right now."""
        with self._lock:
            return len(self._every) + self._starting, len(self._busy), len(self._idle)

    def pids(self) -> list[int]:
        """Pids of every live worker process."""
        with self._lock:
            workers = [*self._every, *self._doomed]
        return [pid for worker in workers for pid in worker.pids()]

    def cancel(self) -> None:
        """No more check-outs; workers checked in are stopped."""
        with self._lock:
            self._cancelled = True
            self._lock.notify_all()

    def finish(self) -> None:
        """No call needs a worker any more: the keeper stops them all and ends."""
        with self._lock:
            self._finishing = True
            self._lock.notify_all()

    def join(self) -> None:
        """Wait until :meth:`finish` took effect: every worker process is stopped."""
        if threading.current_thread() is not self._keeper:
            self._stopped.wait()

    # -- the keeper ------------------------------------------------------------------

    def _keep(self) -> None:
        try:
            self._start_fork_server()
            while self._keep_once():
                pass
        except Exception:  # a bug here must not leave join() waiting forever
            log.exception("the process pool's keeper failed")
        finally:
            with self._lock:
                left = [*self._idle, *self._doomed]
                self._idle, self._doomed = [], []
                self._every.difference_update(left)
            for worker in left:
                worker.stop()
            self._stopped.set()

    @staticmethod
    def _start_fork_server() -> None:
        """A pool exists, so process work is coming: have the server ready for it."""
        from ._worker import start_fork_server

        try:
            start_fork_server()
        except Exception:  # the first worker start will try again, and report it
            log.debug("could not start the fork server ahead", exc_info=True)

    def _keep_once(self) -> bool:
        """One round: stop, start or wait. False once finished."""
        with self._lock:
            if self._finishing and not self._busy:
                return False
            retire, self._doomed = self._doomed, []
            start = 0
            if not (self._finishing or self._cancelled):
                start = max(0, self.min_workers - len(self._every) - self._starting)
                self._starting += start
                retire += self._expired(time.monotonic())
            if not retire and not start:
                self._lock.wait(self._next_expiry())
                return True
        for worker in retire:
            worker.stop()
        for _ in range(start):
            self._start_warm()
        return True

    def _expired(self, now: float) -> list[Worker]:
        """Idle workers past ``idle_timeout``, oldest first, down to ``min_workers``."""
        found = []
        while self._idle and len(self._every) > self.min_workers:
            if self._idle[0].idle_since + self.idle_timeout > now:
                break
            found.append(self._idle.pop(0))
            self._every.discard(found[-1])
        return found

    def _next_expiry(self) -> float | None:
        if not self._idle or len(self._every) <= self.min_workers:
            return None
        due = self._idle[0].idle_since + self.idle_timeout - time.monotonic()
        return max(due, 0.0)

    def _start_warm(self) -> None:
        worker = Worker()
        try:
            worker.run(os.getpid, (), {}).result()  # pebble starts the process on first use
        except Exception:
            log.warning("could not start a warm process worker", exc_info=True)
            worker.stop()
            with self._lock:
                self._starting -= 1
                self._lock.wait(max(1.0, min(self.idle_timeout, 30.0)))  # no tight retry loop
            return
        with self._lock:
            self._starting -= 1
            self._every.add(worker)
            worker.idle_since = time.monotonic()
            self._idle.append(worker)
            self._lock.notify_all()
