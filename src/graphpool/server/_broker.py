"""Each run's events, kept in memory while the run is recent, for every client that follows.

A run's worker :meth:`RunEvents.push` es events; a stream, a join or a reconnect
reads them with :meth:`RunEvents.follow` from any index, so a client that connects
late (or reconnects with ``Last-Event-ID``) sees every event once, in order.
Events live on this event loop; a run created with ``stream_resumable`` (every
run, on a database several servers share) also writes them to the database, so
a server started again, or another server, replays them.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Callable

__all__ = ["Broker", "RunEvents"]

log = logging.getLogger("graphpool.server")

KEEP_FINISHED = 1000  # finished runs whose events stay for late joiners


class RunEvents:
    """One run's ordered events ``(event, json data)``; ``done`` once it finished."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.done = False
        self.result: object = None  # the run's result (wait, join), set before it is done
        # stream_resumable (or a database several servers share): events are also
        # written there, ``persist(first index, events)``, in batches and off the event
        # loop; followers see an event only once it is written, so a client never
        # saw one that a server taking the run over would not replay (test_failover)
        self.persist: Callable[[int, list[tuple[str, str]]], None] | None = None
        self.tailing = False  # events copied from the database (run on another server)
        self._unwritten: list[tuple[str, str]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        # followers waiting for the next event, each on a future of its own: a wake
        # resumes each follower in the loop's next round (an ``asyncio.Event`` waited
        # with a timeout, through ``wait_for``, took three rounds, each tens of ms
        # on a busy server: bench_server.py's time to first event)
        self._waiters: list[asyncio.Future[bool]] = []

    def push(self, event: str, data: str) -> None:
        if self.persist is None:
            self.events.append((event, data))
            self._wake()
            return
        self._unwritten.append((event, data))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write(self.persist))

    async def _write(self, persist: Callable[[int, list[tuple[str, str]]], None]) -> None:
        try:
            while self._unwritten:
                batch, self._unwritten = self._unwritten, []
                try:
                    await asyncio.to_thread(persist, len(self.events), batch)
                except Exception:  # shown all the same: the live stream goes on
                    log.warning("writing %d run events failed", len(batch), exc_info=True)
                self.events.extend(batch)
                self._wake()
        finally:
            self._writer = None
            if self._closing:
                self.done = True
                self._wake()

    async def written(self) -> None:
        """Wait until every event pushed so far is written (and shown)."""
        while self._writer is not None:
            await asyncio.shield(self._writer)

    def catch_up(self, stored: list[tuple[str, str]]) -> None:
        """Append events another server ran (read back from the database), which
        follow the ones here; they are not written again."""
        if stored:
            self.events.extend(stored)
            self._wake()

    def close(self) -> None:
        """The run ended: done once its last events are written."""
        self._closing = True
        if self._writer is None:
            self.done = True
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(True)

    async def changed(self, idle: float | None) -> bool:
        """Wait for the next push (True) or ``idle`` seconds (False)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        if idle is None:
            return await waiter
        timer = loop.call_later(idle, _expire, waiter, self._waiters)
        try:
            return await waiter
        finally:
            timer.cancel()

    async def follow(
        self, start: int = 0, *, idle: float | None = None
    ) -> AsyncIterator[tuple[int, str, str] | None]:
        """``(index, event, data)`` from ``start`` on, until the run is done; ``None``
        after each ``idle`` seconds without an event (for keep-alives)."""
        index = start
        while True:
            while index < len(self.events):
                event, data = self.events[index]
                yield index, event, data
                index += 1
            if self.done:
                return
            if not await self.changed(idle):
                yield None

    async def finished(self) -> None:
        while not self.done:
            await self.changed(None)


def _expire(waiter: asyncio.Future[bool], waiters: list[asyncio.Future[bool]]) -> None:
    """A follower's wait ran out (see ``RunEvents.changed``)."""
    if not waiter.done():
        waiter.set_result(False)
        if waiter in waiters:
            waiters.remove(waiter)


class Broker:
    """Run id to :class:`RunEvents`; forgets the oldest finished runs past a bound."""

    def __init__(self) -> None:
        self._runs: dict[str, RunEvents] = {}
        self._finished: collections.deque[str] = collections.deque()
        # thread id -> (its followers, the events of its runs since the first came)
        self._threads: dict[str, tuple[int, RunEvents]] = {}

    def open(self, run_id: str) -> RunEvents:
        events = self._runs.get(run_id)
        if events is None:
            events = self._runs[run_id] = RunEvents()
        return events

    def get(self, run_id: str) -> RunEvents | None:
        return self._runs.get(run_id)

    def close(self, run_id: str) -> None:
        events = self._runs.get(run_id)
        if events is not None:
            events.close()
            self._finished.append(run_id)
            while len(self._finished) > KEEP_FINISHED:
                self._runs.pop(self._finished.popleft(), None)

    def forget(self, run_id: str) -> None:
        """End the run's followers here and drop its events (this server stopped
        running it; a new follower starts afresh, from the database)."""
        events = self._runs.pop(run_id, None)
        if events is not None:
            events.close()

    # -- a thread's stream: the events of each of its runs, for as long as followed --

    def follow_thread(self, thread_id: str) -> RunEvents:
        """The thread's channel (never done); call :meth:`leave_thread` when gone."""
        count, channel = self._threads.get(thread_id, (0, RunEvents()))
        self._threads[thread_id] = (count + 1, channel)
        return channel

    def leave_thread(self, thread_id: str) -> None:
        count, channel = self._threads.get(thread_id, (1, RunEvents()))
        if count <= 1:
            self._threads.pop(thread_id, None)
        else:
            self._threads[thread_id] = (count - 1, channel)

    def thread_channel(self, thread_id: str) -> RunEvents | None:
        """The thread's channel while anyone follows the thread."""
        followed = self._threads.get(thread_id)
        return None if followed is None else followed[1]

    def to_thread(self, thread_id: str, event: str, data: str) -> None:
        """Copy a run's event to its thread's channel, if anyone follows the thread."""
        followed = self._threads.get(thread_id)
        if followed is not None:
            followed[1].push(event, data)
