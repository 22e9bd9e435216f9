"""Thread pool: sync nodes (I/O-bound work) on threads that come and go with demand.

Work flows like this::

    submit_in(run, fn) --> FairQueue (a lane per run, round-robin) --> worker thread
                                                  |                       ^
                                    prefetch: a worker takes up to        | steal: an idle worker
                                    ``prefetch`` extra tasks at once      | takes a busy worker's
                                    into its own deque                    | prefetched tasks

* Scaling: a thread starts whenever more tasks wait than threads sit idle (up to
  ``max_workers``); a thread idle for ``idle_timeout`` seconds exits (down to
  ``min_workers``).
* Wake-ups: an idle thread parks on a lock of its own. A new task wakes the most
  recently parked thread (or starts one), after the pool lock is released (no
  wake-up into a held lock), while fewer threads are on their way to the queue
  (``_waking``) than tasks wait and than half the busy threads, plus one; a
  woken thread that takes a task and sees more waiting wakes the next by the
  same rule before it runs its own. So a burst of small tasks, which keeps few
  threads busy, is served by the threads already running, woken one at a time,
  instead of one wake-up (a hand-off of the GIL) per task; tasks that block keep
  their threads busy, so wake-ups fan out in proportion and a wide I/O fan-out
  gets its threads fast. Every waiting task still gets a thread while one is
  parked or may start (``test_a_burst_reaches_every_parked_thread``). Threads
  the load does not need stay parked and retire (``test_light_steady_load_lets
  _the_surplus_threads_retire``); woken in turn, every thread would stay warm
  forever.
* Backpressure: with ``queue_size``, a new run is admitted only while fewer
  tasks than that wait (:meth:`admit` waits or raises ``PoolSaturatedError``);
  an admitted run's later tasks are always accepted, so no admitted run is dropped.
* No head-of-line blocking: a prefetched task never waits behind a long task
  while another worker is idle, because every idle worker looks in the other
  workers' deques before it sleeps (``test_pool_thread.py`` covers it).
* Bounded whatever fails: at most ``max_workers`` node bodies run at once, also
  after runs fail, time out or are cancelled (see :meth:`ThreadPool.abandon`).
* Cancelling a waiting task (``future.cancel()``, or its run ending) takes it out
  of the queue and of any worker's deque, so it never starts.
* One lock (a condition) guards the queue, the deques and the counters.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import InternalError, InvalidPoolConfigError, PoolShutDownError
from . import _validate
from ._base import WorkerPool
from ._queue import TaskQueue
from ._stats import PoolMetrics, PoolStats

__all__ = ["ThreadItem", "ThreadPool", "default_pool"]

DEFAULT_MAX_THREADS = 256
"""Threads of the shared default pool: enough for wide I/O fan-outs, bounded all the same."""

_ANONYMOUS = object()  # the lane of plain ``submit`` calls
_log = logging.getLogger("graphpool")


class ThreadItem(concurrent.futures.Future[Any]):
    """A queued call and its future in one object.

    ``cancel()`` on a task still waiting takes it out of the queue (or out of the
    worker deque that prefetched it), so it neither runs nor counts as waiting.
    A caller may subclass it so that what it hands out is the pool's future
    itself, one future per call (:meth:`ThreadPool.queue`).
    """

    def __init__(
        self, pool: ThreadPool, lane: Hashable, fn: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        super().__init__()
        self.pool, self.lane, self.fn, self.args, self.kwargs = pool, lane, fn, args, kwargs
        self.enqueued = time.monotonic()
        self.taken = False  # a worker took it to run (pool lock): reclaim need not look

    def cancel(self) -> bool:
        if not super().cancel():
            return False
        self.pool._discard(self)
        return True

    def drop(self) -> None:
        """Cancel an item already taken out of every queue (its run ended, or the
        pool shut down)."""
        concurrent.futures.Future.cancel(self)


_PENDING, _RUNNING, _CANCELLED, _FINISHED = "pending", "running", "cancelled", "finished"
_NO_KWARGS: dict[str, Any] = {}


class _Call(ThreadItem):
    """A call queued with :meth:`ThreadPool.queue_call`: a future for the pool's own
    use, with no Condition to make and take four times a call (a node's job; its
    runner never waits on it). Its state moves under the pool's lock, and its end
    goes to one ``on_end`` callback instead of to waiters and done-callbacks:
    ``result()`` and ``add_done_callback()`` are not for it."""

    _result: Any = None
    _exception: BaseException | None = None

    def __init__(  # no Future.__init__: no Condition
        self,
        pool: ThreadPool,
        lane: Hashable,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_end: Callable[[Any], None],
    ) -> None:
        self.pool, self.lane, self.fn, self.args, self.kwargs = pool, lane, fn, args, _NO_KWARGS
        self.enqueued = time.monotonic()
        self.taken = False
        self.on_end = on_end
        self._state = _PENDING

    def __repr__(self) -> str:
        return f"<queued call {self.fn!r} state={self._state}>"

    def set_running_or_notify_cancel(self) -> bool:  # (pool lock held)
        if self._state is _CANCELLED:
            return False
        self._state = _RUNNING
        return True

    def set_result(self, result: Any) -> None:
        self._result, self._state = result, _FINISHED
        self._ended()

    def set_exception(self, exception: BaseException | None) -> None:
        self._exception, self._state = exception, _FINISHED
        self._ended()

    def _ended(self) -> None:
        try:
            self.on_end(self)
        except Exception:  # as a Future's done-callbacks: logged, the worker goes on
            _log.exception("exception calling the end callback of %r", self)

    def cancel(self) -> bool:
        if not self._cancelled():
            return self._state is _CANCELLED
        self.pool._discard(self)
        self._ended()
        return True

    def drop(self) -> None:
        if self._cancelled():
            self._ended()

    def _cancelled(self) -> bool:
        """Cancel it if it waits; True if this call did."""
        with self.pool._lock:
            if self._state is not _PENDING:
                return False
            self._state = _CANCELLED
            return True

    def running(self) -> bool:
        return self._state is _RUNNING

    def cancelled(self) -> bool:
        return self._state is _CANCELLED

    def done(self) -> bool:
        return self._state is _FINISHED or self._state is _CANCELLED

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._exception

    def result(self, timeout: float | None = None) -> Any:
        raise InternalError(f"{self!r} is not waited on: its end goes to its on_end")

    def add_done_callback(self, fn: Callable[[Any], object]) -> None:
        raise InternalError(f"{self!r} is not waited on: its end goes to its on_end")


class ThreadPool(WorkerPool):
    """A dynamic, fair, bounded pool of threads, shareable by many graphs and runs.

    Args:
        max_workers: most threads at once.
        min_workers: threads kept alive while idle.
        idle_timeout: seconds an idle thread above ``min_workers`` waits before exiting.
        queue_size: most tasks waiting before new runs are held back (None: no bound).
        prefetch: extra tasks a worker takes at once (saves lock hand-offs for
            many small tasks; idle workers steal them back).
        inline: let a run execute a step's only task in its caller's thread
            (saves a thread hop; such tasks bypass the queue and its metrics).
        name: prefix of the threads' names.

    Raises:
        InvalidPoolConfigError: a parameter has a bad type or value (named in
            the message).

    ``submit``, ``submit_in`` and ``admit`` raise ``PoolShutDownError`` after
    :meth:`shutdown`.

    The bound holds whatever fails. A thread cannot be stopped from outside, so a
    task given up on while it runs (its run failed or was cancelled, or it ran
    past its node's ``timeout``) keeps its thread, and that thread keeps its slot,
    until the body returns; the pool does not start a replacement beyond
    ``max_workers``. This is deliberate: a bounded pool often guards a
    rate-limited backend, and a replacement would let ``max_workers + 1`` calls
    reach it. The price is that hung bodies shrink the pool while they hang;
    ``stats().abandoned`` counts them, and the thread goes back to work (or
    exits when idle) once its body returns. ``busy`` counts every running body,
    abandoned or not, so it is exact.
    """

    kind = "thread"
    _ids = itertools.count()

    def __init__(
        self,
        max_workers: int = DEFAULT_MAX_THREADS,
        *,
        min_workers: int = 0,
        idle_timeout: float = 30.0,
        queue_size: int | None = None,
        prefetch: int = 0,
        inline: bool = False,
        name: str = "graphpool-thread",
    ) -> None:
        self.max_workers = _validate.count("ThreadPool", "max_workers", max_workers, 1)
        self.min_workers = _validate.count("ThreadPool", "min_workers", min_workers, 0)
        if min_workers > max_workers:
            raise InvalidPoolConfigError(
                f"ThreadPool(max_workers={max_workers!r}, min_workers={min_workers!r}): "
                "min_workers must be <= max_workers."
            )
        self.idle_timeout = _validate.seconds("ThreadPool", "idle_timeout", idle_timeout)
        self.prefetch = _validate.count("ThreadPool", "prefetch", prefetch, 0)
        queue_size = _validate.optional_count("ThreadPool", "queue_size", queue_size, 1)
        self.runs_inline = inline
        self.metrics = PoolMetrics()
        self._name = f"{name}-{next(self._ids)}"
        self._queue: TaskQueue[ThreadItem] = TaskQueue(queue_size, self.metrics)
        self._lock = self._queue.lock
        # idle workers, each blocked on its own locked Lock; the last parked is
        # woken first (its stack is warm), and only after the pool lock is released
        self._parked: list[threading.Lock] = []
        self._waking = 0  # workers woken for work that have not taken it yet
        self._deques: dict[threading.Thread, deque[ThreadItem]] = {}
        self._threads: set[threading.Thread] = set()
        self._abandoned: set[ThreadItem] = set()  # running, but their callers gave up on them
        self._idle = self._busy = 0
        self._thread_ids = itertools.count()  # names stay unique as threads come and go
        self._shutdown = False
        for _ in range(min_workers):
            self._spawn()

    def __repr__(self) -> str:
        return (
            f"<ThreadPool {self._name} threads={len(self._threads)} busy={self._busy} "
            f"queued={self._queue.depth} max={self.max_workers}"
            f"{' shut down' if self._shutdown else ''}>"
        )

    @property
    def queue_size(self) -> int | None:
        return self._queue.queue_size

    # -- submitting ----------------------------------------------------------------

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        return self.submit_in(_ANONYMOUS, fn, *args, **kwargs)

    def submit_in(
        self, lane: Hashable, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        """Like ``submit``, queued in ``lane`` (a run): lanes are served in turn."""
        item = ThreadItem(self, lane, fn, args, kwargs)
        self.queue(item)
        return item

    def queue(self, item: ThreadItem) -> None:
        """Queue a call made as a :class:`ThreadItem` of this pool (in its lane).

        Raises:
            PoolShutDownError: the pool is shut down.
        """
        with self._lock:
            if self._shutdown:
                raise PoolShutDownError(f"cannot submit to {self!r}: it is shut down")
            self._queue.push(item.lane, item)
            park = self._wake_one() if self._wanted() else None
        if park is not None:
            park.release()

    def queue_call(
        self,
        lane: Hashable,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_end: Callable[[Any], None],
    ) -> concurrent.futures.Future[Any]:
        """Queue ``fn(*args)`` in ``lane``; ``on_end(future)`` once it ended. The future
        is this pool's light kind (no Condition): it can be cancelled, reclaimed and
        abandoned, not waited on.

        Raises:
            PoolShutDownError: the pool is shut down.
        """
        call = _Call(self, lane, fn, args, on_end)
        self.queue(call)
        return call

    def admit(self, lane: Hashable, timeout: float | None = None) -> None:
        """Let a new run in, or hold it back while ``queue_size`` tasks wait.

        Args:
            timeout: seconds to wait for room; None waits as long as it takes,
                0 refuses at once.

        Raises:
            PoolSaturatedError: no room within ``timeout``.
            PoolShutDownError: the pool is shut down.
        """
        if self._shutdown:
            raise PoolShutDownError(f"cannot run on {self!r}: it is shut down")
        self._queue.admit(self, timeout)

    def release(self, lane: Hashable, seconds: float) -> None:
        """A run ended after ``seconds``: drop what it still had waiting, in the
        shared queue and in the workers' deques, so none of it starts later."""
        with self._lock:
            dropped = self._queue.drop(lane)
            if self.prefetch:
                for mine in self._deques.values():
                    if any(item.lane == lane for item in mine):
                        kept = [item for item in mine if item.lane != lane]
                        dropped.extend(item for item in mine if item.lane == lane)
                        self._queue.gone(len(mine) - len(kept))
                        mine.clear()
                        mine.extend(kept)
        self.metrics.run_finished(seconds)
        for item in dropped:
            item.drop()

    def _discard(self, item: ThreadItem) -> None:
        """A waiting ``item`` was cancelled: take it out wherever it waits."""
        with self._lock:
            if self._queue.remove(item.lane, item):
                return
            for mine in self._deques.values():
                try:
                    mine.remove(item)
                except ValueError:
                    continue
                self._queue.gone(1)
                return

    # -- workers -------------------------------------------------------------------

    def _wanted(self) -> bool:
        """Whether to wake (or start) one more thread for queued work (lock held):
        fewer are on their way than tasks wait, and than half the busy ones plus one."""
        waking = self._waking
        return waking < self._queue.depth and waking <= self._busy >> 1

    def _wake_one(self) -> threading.Lock | None:
        """Wake a parked worker (its lock, to release once the pool lock is released)
        or start a thread, for queued work (lock held; when :meth:`_wanted`)."""
        if self._parked:
            self._waking += 1
            return self._parked.pop()
        self._grow()
        return None

    def _grow(self) -> None:
        """Start a thread if more tasks wait than threads sit idle (lock held)."""
        idle = len(self._parked) + self._waking
        busy_enough = self._queue.depth > idle and len(self._threads) < self.max_workers
        if busy_enough and not self._shutdown:
            self._spawn()

    def _spawn(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self._name}_{next(self._thread_ids)}", daemon=True
        )
        self._threads.add(thread)
        self._deques[thread] = deque()
        self._waking += 1  # on its way to the queue, like a woken worker
        try:
            thread.start()
        except BaseException:  # no thread to be had: nobody is on its way after all
            self._threads.discard(thread)
            del self._deques[thread]
            self._waking -= 1
            raise

    def _take(self, me: threading.Thread) -> tuple[ThreadItem | None, bool]:
        """Next task for ``me`` (lock held): own deque, shared queue, then steal."""
        mine = self._deques[me]
        if mine:
            return mine.popleft(), False
        item = self._queue.pop()
        if item is not None:
            for _ in range(self.prefetch):
                extra = self._queue.pop()
                if extra is None:
                    break
                mine.append(extra)
            if mine and self._parked:
                self._unpark(len(mine))  # idle workers may steal them
            return item, False
        victim = max(self._deques.values(), key=len)
        if victim:
            return victim.pop(), True
        return None, False

    def _work(self) -> None:
        me = threading.current_thread()
        park = threading.Lock()
        park.acquire()  # locked while not parked: acquiring it again blocks until woken
        wait = min(self.idle_timeout, threading.TIMEOUT_MAX)
        self._lock.acquire()
        self._waking -= 1
        try:
            while True:
                item, stolen = self._take(me)
                if item is None:
                    if self._shutdown:
                        break
                    if self._sleep(park, wait):
                        continue
                    if not self._queue.depth and len(self._threads) > self.min_workers:
                        break
                    continue
                item.taken = True
                self._queue.started()
                if not item.set_running_or_notify_cancel():
                    continue
                self._busy += 1
                # more work waits than workers on their way to it: wake the next one
                chained = self._wake_one() if self._wanted() else None
                self._lock.release()
                if chained is not None:
                    chained.release()
                try:
                    self._run(item, stolen)
                finally:
                    self._lock.acquire()
                    self._busy -= 1
                    if self._abandoned:
                        self._abandoned.discard(item)
                del item
        finally:
            self._threads.discard(me)
            for left in self._deques.pop(me, ()):
                self._queue.requeue(left.lane, left)
            self._lock.release()

    def _sleep(self, park: threading.Lock, seconds: float) -> bool:
        """Park until woken for work (True) or ``seconds`` pass (False); lock held."""
        self._parked.append(park)
        self._idle += 1
        self._lock.release()
        woken = park.acquire(timeout=seconds)
        self._lock.acquire()
        self._idle -= 1
        if woken:
            self._waking -= 1
            return True
        try:
            self._parked.remove(park)
        except ValueError:  # woken just as the wait ran out: take the wake-up
            self._waking -= 1
            self._lock.release()
            park.acquire()
            self._lock.acquire()
            return True
        return False

    def _unpark(self, count: int) -> None:
        """Wake up to ``count`` parked workers (lock held; each wakes when it gets the lock)."""
        for _ in range(min(count, len(self._parked))):
            self._waking += 1
            self._parked.pop().release()

    def _run(self, item: ThreadItem, stolen: bool) -> None:
        self.metrics.task_started(time.monotonic() - item.enqueued, stolen)
        try:
            result = item.fn(*item.args, **item.kwargs)
        except BaseException as exc:
            self.metrics.task_finished()  # before the future wakes anyone reading stats
            item.set_exception(exc)
        else:
            self.metrics.task_finished()
            item.set_result(result)

    def reclaim(self, future: concurrent.futures.Future[Any]) -> bool:
        """Run ``future``'s call in the calling thread if it still waits; True if it ran.

        For a caller about to block on its own queued work (a nested run inside a
        node, a task waiting on a task): running the call itself instead of
        waiting for a free worker means a waiter never holds a worker that its
        own work needs, so nests of any depth finish on a bounded pool.
        """
        if not isinstance(future, ThreadItem) or future.pool is not self:
            return False
        with self._lock:
            if future.taken:  # running or done: no need to look through the queue
                return False
            if not self._queue.remove(future.lane, future):
                for mine in self._deques.values():
                    if future in mine:
                        mine.remove(future)
                        self._queue.gone(1)
                        break
                else:
                    return False
            future.taken = True
            if not future.set_running_or_notify_cancel():  # pragma: no cover - cancelled
                return False
        self._run(future, True)
        return True

    # -- control -------------------------------------------------------------------

    def abandon(self, future: concurrent.futures.Future[Any]) -> None:
        """Give up on ``future``: if it waits, it is cancelled and never starts.

        If it runs, it cannot be stopped: its thread finishes the body and keeps
        its slot until then (no replacement beyond ``max_workers``, see the class
        docstring); ``stats().abandoned`` counts it meanwhile.
        """
        if future.cancel():
            return
        with self._lock:
            if isinstance(future, ThreadItem) and future.running():
                self._abandoned.add(future)

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False, cancel: bool = False
    ) -> None:
        """Stop the pool: ``wait`` drains queued work first; ``cancel`` drops it."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            dropped: list[ThreadItem] = []
            if cancel or cancel_futures:
                dropped = self._queue.drain()
                for mine in self._deques.values():
                    dropped.extend(mine)
                    self._queue.depth -= len(mine)
                    mine.clear()
            threads = list(self._threads)
            self._unpark(len(self._parked))
            self._queue.wake_all()
        for item in dropped:
            item.drop()
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def stats(self) -> PoolStats:
        """Counters and histograms right now (see :class:`PoolStats`)."""
        with self._lock:
            workers, busy, idle = len(self._threads), self._busy, self._idle
            queued, runs = self._queue.depth, self._queue.active_runs
            abandoned = len(self._abandoned)
        return self.metrics.snapshot(
            self.kind, workers, busy, idle, queued, runs, abandoned=abandoned
        )

    def statistics(self) -> tuple[int, int]:
        """``(threads, idle threads)`` right now."""
        with self._lock:
            return len(self._threads), self._idle


_default: ThreadPool | None = None
_default_lock = threading.Lock()


def default_pool() -> ThreadPool:
    """The process-wide thread pool used by runs that name no pool.

    Sized by the ``GRAPHPOOL_*`` environment variables when set (see ``graphpool._env``).
    """
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                from .._env import settings

                options = settings().thread_options()  # GRAPHPOOL_MAX_WORKERS, ...
                _default = ThreadPool(name="graphpool-default", inline=True, **options)
    return _default
