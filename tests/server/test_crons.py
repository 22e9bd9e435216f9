"""Crons through the SDK (create, search, count, update, delete), and the scheduler
firing them (driven by hand with a chosen time, not by waiting)."""

from __future__ import annotations

import datetime
from pathlib import Path

import httpx
import pytest

from graphpool.server._storage import Storage

from .conftest import APP

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_cron_lifecycle(client) -> None:
    made = client.crons.create("chain", schedule="*/5 * * * *", input={"items": []})
    assert made["schedule"] == "*/5 * * * *" and made["enabled"] is True
    upcoming = datetime.datetime.fromisoformat(made["next_run_date"])
    assert upcoming.minute % 5 == 0 and upcoming > datetime.datetime.now(datetime.timezone.utc)
    thread_id = client.threads.create()["thread_id"]
    on_thread = client.crons.create_for_thread(thread_id, "chain", schedule="0 9 * * 1-5")
    assert on_thread["thread_id"] == thread_id
    mine = {made["cron_id"], on_thread["cron_id"]}
    assert {c["cron_id"] for c in client.crons.search(assistant_id=made["assistant_id"])} >= mine
    assert [c["cron_id"] for c in client.crons.search(thread_id=thread_id)] == [
        on_thread["cron_id"]
    ]
    assert client.crons.count(thread_id=thread_id) == 1
    off = client.crons.update(made["cron_id"], enabled=False, schedule="0 0 * * *")
    assert off["enabled"] is False and off["schedule"] == "0 0 * * *"
    for cron_id in mine:
        client.crons.delete(cron_id)
    assert client.crons.count(thread_id=thread_id) == 0


def test_bad_crons_name_the_field(client) -> None:
    for kwargs, field in [
        ({"schedule": "every minute"}, "schedule"),
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"schedule": "* * * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"schedule": "* * * * *", "stream_mode": "bogus"}, "stream_mode"),
    ]:
        with pytest.raises(httpx.HTTPStatusError) as info:
            client.crons.create("chain", **kwargs)
        assert info.value.response.status_code == 422
        assert info.value.response.json()["detail"].startswith(field)


def test_scheduler_fires_due_crons_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphpool.server._crons import CronTable, Scheduler, new_cron
    from graphpool.server._runtime import Runtime, default_assistant_id
    from graphpool.server._worker import Worker

    monkeypatch.syspath_prepend(str(APP))
    import graphs  # tests/server/app/graphs.py

    runtime = Runtime({"chain": graphs.chain.compile()}, str(tmp_path / "db.sqlite"))
    try:
        crons = CronTable(runtime.storage)
        scheduler = Scheduler(runtime, crons, Worker(runtime, 1))  # worker not started
        thread_id = runtime.storage.create_thread(None, {})[0]["thread_id"]
        cron = crons.put(
            new_cron(
                {"schedule": "*/5 * * * *", "input": {"items": []}},
                default_assistant_id("chain"),
                thread_id,
            )
        )
        due = datetime.datetime.fromisoformat(cron["next_run_date"])
        assert scheduler.tick(due - datetime.timedelta(seconds=1)) == []
        (fired,) = scheduler.tick(due)
        run = runtime.storage.run_record(fired)
        assert run["thread_id"] == thread_id and run["status"] == "pending"
        assert run["kwargs"]["input"] == {"items": []}
        assert scheduler.tick(due) == []  # moved on
        moved = crons.get(cron["cron_id"])
        assert moved["next_run_date"] == (due + datetime.timedelta(minutes=5)).isoformat()
    finally:
        runtime.close()


def test_a_cron_moved_on_by_another_server_is_not_fired_again(storage: Storage) -> None:
    from graphpool.server._crons import CronTable, new_cron, schedule_next

    crons = CronTable(storage)
    crons.put(new_cron({"schedule": "*/5 * * * *"}, "x", None))
    (seen,) = crons.due(datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    upcoming = schedule_next(seen, datetime.datetime.fromisoformat(seen["next_run_date"]))
    assert crons.advance(seen, upcoming)  # the first server to move it on fires it
    assert not crons.advance(seen, upcoming)  # a second one, which saw it due too, does not
    assert crons.get(seen["cron_id"])["next_run_date"] == upcoming
