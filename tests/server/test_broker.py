"""``RunEvents``: followers from any index, keep-alive ticks while idle, the end, and
events written to the database (in batches) before any follower sees them."""

from __future__ import annotations

import asyncio
import threading

import pytest

from graphpool.server._broker import Broker, RunEvents


def test_followers_see_every_event_once_from_where_they_start() -> None:
    async def scenario() -> None:
        events = RunEvents()
        events.push("metadata", "{}")
        late: list[object] = []

        async def follow(start: int, into: list[object]) -> None:
            async for item in events.follow(start):
                into.append(item)

        early: list[object] = []
        tasks = [asyncio.create_task(follow(0, early)), asyncio.create_task(follow(1, late))]
        await asyncio.sleep(0)
        events.push("values", "1")
        events.push("values", "2")
        events.close()
        await asyncio.gather(*tasks)
        assert early == [(0, "metadata", "{}"), (1, "values", "1"), (2, "values", "2")]
        assert late == [(1, "values", "1"), (2, "values", "2")]

    asyncio.run(scenario())


def test_idle_followers_get_keepalive_ticks() -> None:
    async def scenario() -> None:
        events = RunEvents()
        follower = events.follow(idle=0.01)
        assert await follower.__anext__() is None  # nothing yet: a tick
        events.push("values", "1")
        assert await follower.__anext__() == (0, "values", "1")
        events.close()
        with pytest.raises(StopAsyncIteration):
            await follower.__anext__()

    asyncio.run(scenario())


def test_a_push_reaches_a_waiting_follower_in_the_loops_next_round() -> None:
    """A follower waits on a future of its own: one round of the event loop, not the
    three of an ``asyncio.Event`` waited through ``wait_for`` (each round costs tens
    of milliseconds on a busy server)."""

    async def scenario() -> list[object]:
        events = RunEvents()
        seen: list[object] = []

        async def follow() -> None:
            async for item in events.follow(idle=60):
                seen.append(item)

        task = asyncio.create_task(follow())
        await asyncio.sleep(0)  # the follower waits now
        events.push("values", "1")
        await asyncio.sleep(0)
        got = list(seen)
        events.close()
        await task
        assert not events._waiters  # the ended wait left nothing behind
        return got

    assert asyncio.run(scenario()) == [(0, "values", "1")]


def test_broker_forgets_the_oldest_finished_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphpool.server import _broker

    async def scenario() -> None:
        monkeypatch.setattr(_broker, "KEEP_FINISHED", 2)
        broker = Broker()
        for run_id in ("a", "b", "c"):
            broker.open(run_id)
        broker.open("running")
        for run_id in ("a", "b", "c"):
            broker.close(run_id)
        assert broker.get("a") is None
        assert broker.get("b") is not None and broker.get("c") is not None
        assert broker.get("running") is not None

    asyncio.run(scenario())


def test_written_events_are_shown_only_once_stored_and_in_order() -> None:
    stored: list[tuple[int, str, str]] = []
    gate = threading.Event()  # holds the first write, as a slow database would

    def persist(start: int, batch: list[tuple[str, str]]) -> None:
        gate.wait(30)
        stored.extend((start + i, event, data) for i, (event, data) in enumerate(batch))

    async def scenario() -> None:
        events = RunEvents()
        events.persist = persist
        seen: list[object] = []

        async def follow() -> None:
            async for item in events.follow(0):
                seen.append(item)

        follower = asyncio.create_task(follow())
        events.push("metadata", "{}")
        await asyncio.sleep(0.05)
        events.push("values", "1")  # while the first write waits: the next batch
        events.push("values", "2")
        events.close()
        assert seen == [] and not events.done  # nothing shown before it is stored
        gate.set()
        await events.written()
        await asyncio.wait_for(follower, 30)
        assert events.done
        assert seen == [(0, "metadata", "{}"), (1, "values", "1"), (2, "values", "2")]

    asyncio.run(scenario())
    assert stored == [(0, "metadata", "{}"), (1, "values", "1"), (2, "values", "2")]
