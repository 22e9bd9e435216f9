"""The run queue without HTTP, on SQLite and on PostgreSQL: claim order, one run per
thread, strategies, recovery, and (PostgreSQL) several servers claiming at once."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

import pytest

from graphpool.server._queue import SqlRunQueue, owner_id
from graphpool.server._storage import Storage


def make_queue(storage: Storage, **options: Any) -> SqlRunQueue:
    if storage.dialect.name == "postgres":
        from graphpool.server._postgres import PostgresRunQueue

        return PostgresRunQueue(storage, **options)  # type: ignore[arg-type]
    return SqlRunQueue(storage, **options)


@pytest.fixture
def queue(storage: Storage) -> SqlRunQueue:
    for thread in ("a", "b"):
        storage.create_thread(thread, {})
    return make_queue(storage, max_pending=3)


def _run(thread: str, strategy: str = "enqueue") -> dict[str, Any]:
    return {
        "run_id": str(uuid.uuid4()),
        "thread_id": thread,
        "assistant_id": "x",
        "kwargs": {},
        "multitask_strategy": strategy,
    }


def _done(queue: SqlRunQueue, run_id: str) -> None:
    queue.finish(run_id, "success", None, {"status": "idle", "values": None, "interrupts": {}})


def test_one_run_per_thread_in_admission_order(queue: SqlRunQueue) -> None:
    a1, a2, b1 = _run("a"), _run("a"), _run("b")
    for run in (a1, a2, b1):
        assert queue.admit(run).admitted
    me = owner_id()
    assert queue.claim(me, 30) == a1["run_id"]
    assert queue.claim(me, 30) == b1["run_id"]  # a2 waits: thread a is busy
    assert queue.claim(me, 30) is None
    _done(queue, a1["run_id"])
    assert queue.claim(me, 30) == a2["run_id"]
    assert queue.storage.get_thread("a")["status"] == "busy"
    _done(queue, a2["run_id"])
    assert queue.storage.get_thread("a")["status"] == "idle"


def test_strategies_and_the_bound(queue: SqlRunQueue) -> None:
    first = _run("a")
    assert queue.admit(first).admitted
    assert not queue.admit(_run("a", "reject")).admitted
    displacing = queue.admit(_run("a", "interrupt"))
    assert displacing.admitted and displacing.interrupt == [first["run_id"]]
    assert queue.admit(_run("b")).admitted
    full = queue.admit(_run("b"))  # three pending already
    assert full.full and not full.admitted
    assert queue.cancel_pending(first["run_id"])
    assert queue.storage.get_run(first["run_id"])["status"] == "interrupted"


def test_recover_takes_back_runs_of_a_dead_process(queue: SqlRunQueue) -> None:
    run = _run("a")
    queue.admit(run)
    dead = json.loads(owner_id())
    dead[1] = 2**22 + 12345  # a pid no process has
    assert queue.claim(json.dumps(dead), 30) == run["run_id"]
    queue.claim(owner_id(), 30)  # nothing else to take
    mine = _run("b")
    queue.admit(mine)
    assert queue.claim(owner_id(), 30) == mine["run_id"]
    assert queue.recover(30) == 1  # the dead owner's run, not this process's
    assert queue.storage.get_run(run["run_id"])["status"] == "pending"
    assert queue.storage.get_run(mine["run_id"])["status"] == "running"
    assert queue.claim(owner_id(), 30) == run["run_id"]
    assert queue.storage.run_record(run["run_id"])["attempt"] == 2


def test_per_assistant_limit(storage: Storage) -> None:
    for thread in ("a", "b", "c"):
        storage.create_thread(thread, {})
    queue = make_queue(storage, per_assistant=1)
    busy, waiting, other = _run("a"), _run("b"), {**_run("c"), "assistant_id": "y"}
    for run in (busy, waiting, other):
        queue.admit(run)
    me = owner_id()
    assert queue.claim(me, 30) == busy["run_id"]
    assert queue.claim(me, 30) == other["run_id"]  # "x" is at its limit; "y" is not
    assert queue.claim(me, 30) is None
    _done(queue, busy["run_id"])
    assert queue.claim(me, 30) == waiting["run_id"]


def test_a_cancel_asked_reaches_the_runs_holder(queue: SqlRunQueue) -> None:
    run, waiting = _run("a"), _run("b")
    queue.admit(run)
    me, other = owner_id(), owner_id()
    assert queue.claim(me, 30) == run["run_id"]
    queue.admit(waiting)
    assert not queue.ask_cancel(waiting["run_id"], "interrupt")  # not running: nobody to ask
    assert queue.ask_cancel(run["run_id"], "rollback")
    assert queue.cancels(other, [run["run_id"]]) == []
    assert queue.cancels(me, [run["run_id"], waiting["run_id"]]) == [(run["run_id"], "rollback")]
    queue.storage.delete_thread("a")  # through another server, say: its run must stop
    assert queue.cancels(me, [run["run_id"]]) == [(run["run_id"], "interrupt")]


def test_a_server_cut_off_past_its_lease_loses_the_run(queue: SqlRunQueue) -> None:
    run = _run("a")
    queue.admit(run)
    far = json.loads(owner_id())
    far[2] = "another-host"  # its pid cannot be checked from here: only the lease counts
    far = json.dumps(far)
    assert queue.claim(far, -1) == run["run_id"]  # a lease that already ran out
    assert queue.recover(30) == 1  # another server puts it back ...
    me = owner_id()
    assert queue.claim(me, 30) == run["run_id"]  # ... and takes it
    assert queue.heartbeat(far, [run["run_id"]], 30) == set()  # the first learns it lost it
    idle = {"status": "idle", "values": None, "interrupts": {}}
    queue.finish(run["run_id"], "error", None, idle, far)  # and cannot record an end
    assert queue.storage.get_run(run["run_id"])["status"] == "running"
    assert queue.heartbeat(me, [run["run_id"]], 30) == {run["run_id"]}
    queue.finish(run["run_id"], "success", None, idle, me)
    assert queue.storage.get_run(run["run_id"])["status"] == "success"


def test_old_events_of_ended_runs_are_dropped_unless_resumable(queue: SqlRunQueue) -> None:
    plain, resumable = _run("a"), {**_run("b"), "kwargs": {"resumable": True}}
    for run in (plain, resumable):
        queue.admit(run)
        assert queue.claim(owner_id(), 30) == run["run_id"]
        queue.storage.append_events(run["run_id"], 0, [("metadata", "{}"), ("values", "1")])
    running = _run("a")  # still running: its events stay
    queue.admit(running)
    for run in (plain, resumable):
        _done(queue, run["run_id"])
    assert queue.claim(owner_id(), 30) == running["run_id"]
    queue.storage.append_events(running["run_id"], 0, [("metadata", "{}")])
    assert queue.storage.drop_events("2000-01-01T00:00:00+00:00") == 0  # none ended before
    assert queue.storage.drop_events("2999-01-01T00:00:00+00:00") == 2
    assert queue.storage.run_events(plain["run_id"]) == []
    assert len(queue.storage.run_events(resumable["run_id"])) == 2
    assert len(queue.storage.run_events(running["run_id"])) == 1


@pytest.mark.timeout(30)
def test_a_run_admitted_on_another_thread_wakes_the_waiting_worker(queue: SqlRunQueue) -> None:
    """The server admits runs on its database thread while the worker waits on the
    loop: the wake-up must reach a loop blocked in select (if it is lost, the wait
    lasts its 60 s and the test times out)."""

    def admit_later() -> None:
        time.sleep(0.2)  # the loop is blocked in its selector by now
        queue.admit(_run("a"))

    async def scenario() -> None:
        waiting = asyncio.ensure_future(queue.wait(60.0))
        admitter = threading.Thread(target=admit_later)
        admitter.start()
        try:
            await waiting
        finally:
            admitter.join()
            await queue.aclose()

    asyncio.run(scenario())


@pytest.mark.timeout(30)
def test_a_cancelled_wait_ends_even_as_a_wake_up_comes(queue: SqlRunQueue) -> None:
    """The worker's stop cancels its wait; a wake-up at the same moment (a run's end
    on the database thread) must not swallow the cancel, or the worker never stops."""

    async def scenario() -> None:
        try:
            for _ in range(20):  # the wake-up a few loop steps before or after the cancel
                for steps in range(4):
                    waiting = asyncio.ensure_future(queue.wait(60.0))
                    for _ in range(steps):
                        await asyncio.sleep(0)
                    queue.notify()
                    await asyncio.sleep(0)
                    if waiting.done():  # woken before the cancel: nothing to swallow
                        continue
                    waiting.cancel()
                    with pytest.raises(asyncio.CancelledError):  # not a normal return
                        await waiting
        finally:
            await queue.aclose()

    asyncio.run(scenario())


def test_a_run_that_ends_with_its_thread_dropped_takes_it_along(queue: SqlRunQueue) -> None:
    """``finish(thread=None)`` (a stateless run's end): the thread, its runs and their
    events go in the run's last transaction; only if this server still holds the run."""
    run = _run("a")
    queue.admit(run)
    me, other = owner_id(), json.dumps(["other", 1, "another-host", ""])
    assert queue.claim(me, 30) == run["run_id"]
    queue.storage.append_events(run["run_id"], 0, [("metadata", "{}")])
    assert not queue.finish(run["run_id"], "success", None, None, other)  # not its run
    assert queue.storage.get_thread("a") is not None
    assert queue.finish(run["run_id"], "success", None, None, me)
    assert queue.storage.get_thread("a") is None
    assert queue.storage.get_run(run["run_id"]) is None
    assert queue.storage.run_events(run["run_id"]) == []
    assert queue.storage.get_thread("b") is not None  # the other thread stays


def test_a_stateless_runs_thread_is_made_with_it_and_not_when_refused(
    queue: SqlRunQueue,
) -> None:
    for _ in range(3):
        queue.admit(_run("b"))  # the queue is full now
    refused = {**_run("new-1")}
    assert queue.admit(refused, {"graph_id": "g"}).full
    assert queue.storage.get_thread("new-1") is None  # nothing left behind
    queue.max_pending = 10
    assert queue.admit(refused, {"graph_id": "g"}).admitted
    made = queue.storage.get_thread("new-1")
    assert made is not None
    assert (made["status"], made["metadata"]) == ("busy", {"graph_id": "g"})


def test_a_run_ending_wakes_the_worker_only_if_a_run_waits(queue: SqlRunQueue) -> None:
    woken: list[bool] = []
    queue.notify = lambda: woken.append(True)  # type: ignore[method-assign]
    first, second = _run("a"), _run("a")
    queue.admit(first)
    queue.admit(second)  # waits for thread a
    me = owner_id()
    assert queue.claim(me, 30) == first["run_id"]
    woken.clear()
    _done(queue, first["run_id"])
    assert woken == [True]  # the second can go now
    assert queue.claim(me, 30) == second["run_id"]
    woken.clear()
    _done(queue, second["run_id"])
    assert woken == []  # nothing waits
