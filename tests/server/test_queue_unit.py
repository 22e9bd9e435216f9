"""``SqliteRunQueue`` without HTTP: claim order, one run per thread, strategies, recovery."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from graphpool.server._queue import SqliteRunQueue, owner_id
from graphpool.server._storage import Storage


@pytest.fixture
def queue(tmp_path: Path) -> Any:
    storage = Storage(str(tmp_path / "q.db"))
    for thread in ("a", "b"):
        storage.create_thread(thread, {})
    yield SqliteRunQueue(storage, max_pending=3)
    storage.close()


def _run(thread: str, strategy: str = "enqueue") -> dict[str, Any]:
    return {
        "run_id": str(uuid.uuid4()),
        "thread_id": thread,
        "assistant_id": "x",
        "kwargs": {},
        "multitask_strategy": strategy,
    }


def _done(queue: SqliteRunQueue, run_id: str) -> None:
    queue.finish(run_id, "success", None, {"status": "idle", "values": None, "interrupts": {}})


def test_one_run_per_thread_in_admission_order(queue: SqliteRunQueue) -> None:
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


def test_strategies_and_the_bound(queue: SqliteRunQueue) -> None:
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


def test_recover_takes_back_runs_of_a_dead_process(queue: SqliteRunQueue) -> None:
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


def test_per_assistant_limit(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path / "q.db"))
    try:
        for thread in ("a", "b", "c"):
            storage.create_thread(thread, {})
        queue = SqliteRunQueue(storage, per_assistant=1)
        busy, waiting, other = _run("a"), _run("b"), {**_run("c"), "assistant_id": "y"}
        for run in (busy, waiting, other):
            queue.admit(run)
        me = owner_id()
        assert queue.claim(me, 30) == busy["run_id"]
        assert queue.claim(me, 30) == other["run_id"]  # "x" is at its limit; "y" is not
        assert queue.claim(me, 30) is None
        _done(queue, busy["run_id"])
        assert queue.claim(me, 30) == waiting["run_id"]
    finally:
        storage.close()


@pytest.mark.timeout(30)
def test_a_run_admitted_on_another_thread_wakes_the_waiting_worker(queue: SqliteRunQueue) -> None:
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
        await waiting
        admitter.join()

    asyncio.run(scenario())
