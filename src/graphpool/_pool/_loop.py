"""A background event loop, so sync runs can run async nodes without blocking threads.

Every sync ``invoke``/``stream`` sends its ``async def`` nodes to one shared loop
in a daemon thread. One node that blocks that loop (``time.sleep``, a sync HTTP
client or CPU work inside ``async def``) would stall every other run's async
nodes, so a watchdog guards it::

    submit_coroutine(coro, name) --> pending --> loop thread: Task named ``name``
                                        ^               |
                                        |          heartbeat every threshold/4
             watchdog thread: beat older than ``threshold``?
               -> warn, naming the task that holds the loop;
               -> a fresh loop thread takes the pending and all new work;
               -> the old loop finishes its own tasks when it recovers, then stops.

A coroutine already running on the blocked loop stays there (it cannot move);
everything not yet started moves. The hot path costs what
``asyncio.run_coroutine_threadsafe``'s does: append to a deque and wake the loop.
``tests/test_loop_watchdog.py`` covers it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any

from ..errors import InvalidConfigError

__all__ = [
    "background_loop",
    "blocked_threshold",
    "run_coroutine",
    "set_blocked_threshold",
    "submit_coroutine",
]

logger = logging.getLogger("graphpool")

DEFAULT_BLOCKED_THRESHOLD = 0.5
"""Seconds the shared loop may go without answering before it counts as blocked."""

_threshold = DEFAULT_BLOCKED_THRESHOLD
_current: _LoopThread | None = None
_lock = threading.Lock()
_loop_ids = itertools.count(1)
# what the watchdog waits on between looks (never set): not time.sleep, which
# programs and tests patch (LangGraph's count a retry's sleeps through it); a
# patched sleep that returns at once made the watchdog spin and every one of
# its calls was counted among theirs
_pause = threading.Event()

_Pending = tuple[Coroutine[Any, Any, Any], "concurrent.futures.Future[Any]", str | None]


class _LoopThread:
    """An event loop in a daemon thread, with a heartbeat the watchdog reads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pending: deque[_Pending] = deque()
        self.beat = time.monotonic()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.retiring = False
        self.blocked_since: float | None = None
        self.thread = threading.Thread(
            target=self._serve, name=f"graphpool-event-loop-{next(_loop_ids)}", daemon=True
        )
        self.thread.start()

    def __repr__(self) -> str:
        state = "retiring" if self.retiring else "serving"
        return f"<graphpool loop {self.thread.name} {state} tasks={len(self.tasks)}>"

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._heartbeat)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    # -- on the loop -------------------------------------------------------------

    def _heartbeat(self) -> None:
        now = time.monotonic()
        if self.blocked_since is not None:
            logger.info(
                "graphpool event loop %s answers again after %.1f s; it finishes its "
                "%d task(s) and stops",
                self.thread.name,
                now - self.blocked_since,
                len(self.tasks),
            )
            self.blocked_since = None
        self.beat = now
        if self.retiring and not self.tasks and not self.pending:
            self.loop.stop()
            return
        self.loop.call_later(_threshold / 4, self._heartbeat)

    def _start_pending(self) -> None:
        while True:
            try:
                coro, future, name = self.pending.popleft()
            except IndexError:
                return
            if self.retiring:  # raced with the watchdog's hand-over: pass it on
                _serving()._hand(coro, future, name)
            else:
                self._start(coro, future, name)

    def _start(
        self,
        coro: Coroutine[Any, Any, Any],
        future: concurrent.futures.Future[Any],
        name: str | None,
    ) -> None:
        if future.cancelled():
            coro.close()
            return
        task = self.loop.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(lambda done: self._settle(done, future))
        future.add_done_callback(lambda f: self._cancel(task) if f.cancelled() else None)

    def _settle(self, task: asyncio.Task[Any], future: concurrent.futures.Future[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            future.cancel()
        elif future.set_running_or_notify_cancel():
            exc = task.exception()
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(task.result())

    def _cancel(self, task: asyncio.Task[Any]) -> None:
        """From any thread: the caller cancelled ``task``'s future."""
        try:
            self.loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:  # the loop stopped meanwhile; the task is done
            pass

    # -- from any thread ---------------------------------------------------------

    def _hand(
        self,
        coro: Coroutine[Any, Any, Any],
        future: concurrent.futures.Future[Any],
        name: str | None,
    ) -> None:
        self.pending.append((coro, future, name))
        try:
            self.loop.call_soon_threadsafe(self._start_pending)
        except RuntimeError:  # retired and closed since the caller picked this loop
            pass
        if self.retiring:  # raced with the watchdog's hand-over: pass it on
            self._forward()

    def _forward(self) -> None:
        """Move work not yet started to the loop now serving."""
        while True:
            try:
                coro, future, name = self.pending.popleft()
            except IndexError:
                return
            _serving()._hand(coro, future, name)

    def holder(self) -> str:
        """What runs on the loop right now, for the warning (from the watchdog thread)."""
        task = asyncio.current_task(self.loop)
        if task is None:
            return "a callback (no task)"
        coro = task.get_coro()
        return f"task {task.get_name()!r} (coroutine {getattr(coro, '__qualname__', coro)})"


def _serving() -> _LoopThread:
    """The loop that takes new work, started (with its watchdog) on first use."""
    global _current
    current = _current
    if current is None:
        with _lock:
            if _current is None:
                _current = _LoopThread()
                threading.Thread(target=_watch, name="graphpool-loop-watchdog", daemon=True).start()
            current = _current
    return current


def _watch() -> None:
    """The watchdog thread: replace the serving loop when its heartbeat stops."""
    while True:
        _pause.wait(_threshold / 2)
        current = _current
        if current is None or not (current.tasks or current.pending):
            continue  # an idle loop holds nobody up, even when it beats late
        silent = time.monotonic() - current.beat
        if silent > _threshold:
            _replace(current, silent)


def _replace(blocked: _LoopThread, silent: float) -> None:
    """Retire ``blocked``: new and not yet started work goes to a fresh loop."""
    global _current
    holder = blocked.holder()
    with _lock:
        if _current is not blocked:
            return
        fresh = _current = _LoopThread()
    blocked.retiring = True
    blocked.blocked_since = blocked.beat
    logger.warning(
        "graphpool's shared event loop (%s) has not answered for %.2f s: %s blocks it. "
        "Blocking code inside `async def` (time.sleep, a sync HTTP or database client, "
        "CPU work) holds every async node of every sync invoke/stream. New async work "
        "moves to a fresh loop thread (%s); the blocked one retires once it answers. "
        "Await async APIs in that node (asyncio.sleep, an async client), wrap the "
        "blocking call in `await asyncio.to_thread(...)`, or make the node a plain "
        "`def` so it runs on the thread pool.",
        blocked.thread.name,
        silent,
        holder,
        fresh.thread.name,
    )
    blocked._forward()


def submit_coroutine(
    coro: Coroutine[Any, Any, Any], name: str | None = None
) -> concurrent.futures.Future[Any]:
    """Schedule ``coro`` on the shared loop as a task called ``name`` (a node's name,
    named in the watchdog's warning); returns a thread-safe future.

    Cancelling the future cancels the task.
    """
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    (_current or _serving())._hand(coro, future, name)
    return future


def run_coroutine(coro: Coroutine[Any, Any, Any], name: str | None = None) -> Any:
    """Run ``coro`` on the shared loop and block the calling thread for its result."""
    return submit_coroutine(coro, name).result()


def background_loop() -> asyncio.AbstractEventLoop:
    """The shared loop now taking new work (another one after a watchdog replacement)."""
    return _serving().loop


def blocked_threshold() -> float:
    """Seconds the shared loop may go without answering before the watchdog moves work off it."""
    return _threshold


def set_blocked_threshold(seconds: float) -> None:
    """Set the watchdog's threshold (default 0.5 s); takes effect within one old threshold.

    Raises:
        InvalidConfigError: ``seconds`` is not a positive, finite number.
    """
    global _threshold
    valid = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
    if not valid or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidConfigError(
            f"set_blocked_threshold(seconds={seconds!r}): seconds must be a positive, "
            "finite number."
        )
    _threshold = float(seconds)
