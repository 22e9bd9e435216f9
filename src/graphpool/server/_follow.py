"""A run's events on a server other than the one running it (PostgreSQL mode).

Servers that share a database write every event of every run to it as it goes
(``gp_run_events``). A client streaming, joining or waiting on a server that does
not run the run gets the events that server copies from the database while the
run goes on elsewhere (or waits in the queue, or is taken over after its server
died); if this server takes the run itself, its worker carries on from there.
"""

from __future__ import annotations

import asyncio
import logging

from ._broker import RunEvents
from ._queue import FINAL
from ._runtime import Runtime
from ._worker import Worker

__all__ = ["follow"]

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
    worker takes it (each round runs without a pause, so the two never interleave)."""
    try:
        while run_id not in worker.running and not events.done:
            try:
                run = rt.storage.get_run(run_id)  # the status first: its events are all in
                events.catch_up(rt.storage.run_events(run_id, len(events.events)))
                if run is None or run["status"] in FINAL:
                    events.result = rt.storage.run_result(run_id)
                    rt.broker.close(run_id)
                    return
            except Exception:  # the database is away for a moment: try again
                log.warning("following run %s failed", run_id, exc_info=True)
            await asyncio.sleep(POLL_SECONDS)
    finally:
        events.tailing = False
