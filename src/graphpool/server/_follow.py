"""A run's events on a server other than the one running it (PostgreSQL mode).

Servers that share a database write every event of every run to it as it goes
(``gp_run_events``). A client streaming, joining or waiting on a server that does
not run the run gets the events that server copies from the database while the
run goes on elsewhere (or waits in the queue, or is taken over after its server
died); if this server takes the run itself, its worker carries on from there.
A thread's followers (``/threads/{id}/stream``) get its runs' events from the
database too, wherever the runs run.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._broker import RunEvents
from ._queue import FINAL
from ._runtime import Runtime
from ._worker import Worker

__all__ = ["follow", "follow_thread", "stop_following"]

log = logging.getLogger("graphpool.server")

POLL_SECONDS = 0.1
_tails: set[asyncio.Task[None]] = set()


def follow(rt: Runtime, worker: Worker, run_id: str) -> RunEvents | None:
    """The run's events here (None if none: a lone server's run from before it
    started); on a shared database, kept up to date from it until the run ends."""
    if not rt.shared:
        return rt.broker.get(run_id)
    events = rt.broker.open(run_id)
    if not events.done and not events.tailing and run_id not in worker.running:
        events.tailing = True
        task = asyncio.get_running_loop().create_task(_tail(rt, worker, run_id, events))
        _tails.add(task)
        task.add_done_callback(_tails.discard)
    return events


async def _tail(rt: Runtime, worker: Worker, run_id: str, events: RunEvents) -> None:
    """Copy the run's new events from the database until it ends, or this server's
    worker takes it (a round read off the loop is dropped if the worker took the run
    meanwhile: the worker catches up from the database itself, so the two never
    interleave)."""
    try:
        while run_id not in worker.running and not events.done:
            try:
                run, stored, result = await asyncio.to_thread(_read, rt, run_id, len(events.events))
                if run_id in worker.running:  # taken here meanwhile: the worker carries on
                    return
                events.catch_up(stored)
                if run is None or run["status"] in FINAL:
                    events.result = result
                    rt.broker.close(run_id)
                    return
            except Exception:  # the database is away for a moment: try again
                log.warning("following run %s failed", run_id, exc_info=True)
            await asyncio.sleep(POLL_SECONDS)
    finally:
        events.tailing = False


def _read(rt: Runtime, run_id: str, start: int) -> tuple[dict[str, Any] | None, Any, Any]:
    """The run, its events from ``start`` and (once it ended) its result; the status
    is read first: a run that ended then has all its events in."""
    run = rt.storage.get_run(run_id)
    stored = rt.storage.run_events(run_id, start)
    ended = run is None or run["status"] in FINAL
    return run, stored, rt.storage.run_result(run_id) if ended else None


def follow_thread(rt: Runtime, thread_id: str) -> RunEvents:
    """The thread's channel: the events of its runs from now on (leave with
    ``rt.broker.leave_thread``); on a shared database, copied from it."""
    channel = rt.broker.follow_thread(thread_id)
    if rt.shared and not channel.tailing:
        # what is there now is not shown: noted before the reply starts, so that a run
        # the client starts once subscribed is shown whole
        seen = {run_id: count for run_id, _, count in rt.storage.thread_runs(thread_id)}
        channel.tailing = True
        task = asyncio.get_running_loop().create_task(_tail_thread(rt, thread_id, channel, seen))
        _tails.add(task)
        task.add_done_callback(_tails.discard)
    return channel


async def _tail_thread(
    rt: Runtime, thread_id: str, channel: RunEvents, seen: dict[str, int]
) -> None:
    """Copy the events of the thread's runs to its channel while anyone follows it,
    each run's from index ``seen[run id]`` (0 for runs that come later)."""
    ended: set[str] = set()  # runs ended with all their events copied
    try:
        while rt.broker.thread_channel(thread_id) is channel:
            try:
                batches = await asyncio.to_thread(_read_thread, rt, thread_id, seen, ended)
                if rt.broker.thread_channel(thread_id) is not channel:
                    return
                for run_id, status, stored in batches:
                    for event, data in stored:
                        channel.push(event, data)
                    seen[run_id] = seen.get(run_id, 0) + len(stored)
                    if status in FINAL:  # read before its events: they were all in
                        ended.add(run_id)
            except Exception:  # the database is away for a moment: try again
                log.warning("following thread %s failed", thread_id, exc_info=True)
            await asyncio.sleep(POLL_SECONDS)
    finally:
        channel.tailing = False


def _read_thread(
    rt: Runtime, thread_id: str, seen: dict[str, int], ended: set[str]
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The thread's runs not yet ended-and-copied, each with its status and its new
    events (from ``seen[run id]``)."""
    return [
        (run_id, status, rt.storage.run_events(run_id, seen.get(run_id, 0)))
        for run_id, status, _ in rt.storage.thread_runs(thread_id)
        if run_id not in ended
    ]


async def stop_following() -> None:
    """Stop every copy from the database (the server is shutting down)."""
    tasks = list(_tails)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
