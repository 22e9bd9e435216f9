"""``_postgres``: several servers' queues on one PostgreSQL database claim each run once,
keep one run per thread, and an idle server's ``wait`` wakes on another's ``NOTIFY``;
and the API's queries that differ by dialect (JSON filters, upserts, copying a
thread's checkpoints) through the SDK against ``graphpool serve`` on PostgreSQL.
(``GRAPHPOOL_TEST_SERVE_DB=postgres`` runs every contract test there.)"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from graphpool.server._queue import owner_id

from .conftest import serve

pytestmark = pytest.mark.timeout(120)

THREADS = ("a", "b", "c")
IDLE = {"status": "idle", "values": None, "interrupts": {}}


def _run(thread: str) -> dict[str, Any]:
    return {
        "run_id": str(uuid.uuid4()),
        "thread_id": thread,
        "assistant_id": "x",
        "kwargs": {},
        "multitask_strategy": "enqueue",
    }


def _queues(url: str, count: int) -> list[Any]:
    from graphpool.server._postgres import PostgresRunQueue, PostgresStorage

    return [PostgresRunQueue(PostgresStorage(url, max_connections=2)) for _ in range(count)]


def test_servers_claim_each_run_once_and_one_per_thread(pg_database: str) -> None:
    queues = _queues(pg_database, 4)
    try:
        for thread in THREADS:
            queues[0].storage.create_thread(thread, {})
        runs = [_run(thread) for _ in range(6) for thread in THREADS]
        for run in runs:
            assert queues[0].admit(run).admitted
        lock = threading.Lock()
        running: dict[str, str] = {}  # thread -> the run a server holds on it now
        claimed: list[str] = []
        broken: list[str] = []

        def claim_all(queue: Any) -> None:  # one server's worker loop
            me = owner_id()
            while True:
                with lock:
                    if len(claimed) >= len(runs):
                        return
                run_id = queue.claim(me, 30)
                if run_id is None:
                    continue
                thread = queue.storage.get_run(run_id)["thread_id"]
                with lock:
                    if thread in running:
                        broken.append(f"{run_id} and {running[thread]} both run on {thread}")
                    running[thread] = run_id
                    claimed.append(run_id)
                time.sleep(0.002)  # "runs" a moment, so that overlapping runs would show
                with lock:
                    del running[thread]
                queue.finish(run_id, "success", None, IDLE)

        workers = [threading.Thread(target=claim_all, args=(q,)) for q in queues]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert not any(worker.is_alive() for worker in workers)
        assert broken == []
        assert sorted(claimed) == sorted(run["run_id"] for run in runs)  # each once
        for thread in THREADS:  # and each thread's runs in admission order
            order = [r["run_id"] for r in runs if r["thread_id"] == thread]
            assert [c for c in claimed if c in order] == order
    finally:
        for queue in queues:
            queue.storage.close()


def test_an_idle_server_wakes_on_another_servers_admission(pg_database: str) -> None:
    admitting, idle = _queues(pg_database, 2)

    async def scenario() -> None:
        await idle.wait(30)  # returns once its LISTEN connection listens (it wakes itself)
        woken = asyncio.get_running_loop().create_task(idle.wait(120))
        await asyncio.sleep(0)
        assert not woken.done()
        admitting.storage.create_thread("a", {})
        await asyncio.to_thread(admitting.admit, _run("a"))  # another process, in effect
        await asyncio.wait_for(woken, 30)  # NOTIFY woke it, long before its 120 s
        await idle.aclose()

    try:
        asyncio.run(scenario())
        assert idle.claim(owner_id(), 30) is not None
    finally:
        admitting.storage.close()
        idle.storage.close()


def test_the_api_on_postgresql(tmp_path: Path, pg_database: str) -> None:
    from langgraph_sdk import get_sync_client

    with serve(tmp_path, database=pg_database) as url:
        client = get_sync_client(url=url)
        try:
            system = client.assistants.search(metadata={"created_by": "system"}, limit=100)
            assert "chain" in {a["graph_id"] for a in system}
            made = client.assistants.create("chain", name="mine", metadata={"team": "a"})
            client.assistants.update(made["assistant_id"], name="mine 2")  # an upsert
            assert [v["version"] for v in client.assistants.get_versions(made["assistant_id"])] == [
                2,
                1,
            ]
            thread_id = client.threads.create(metadata={"tag": "pg", "n": 1})["thread_id"]
            client.runs.wait(thread_id, "chain", input={"items": []})
            assert [t["thread_id"] for t in client.threads.search(metadata={"n": 1})] == [thread_id]
            hits = client.threads.search(values={"items": ["hello", "second"]})
            assert [t["thread_id"] for t in hits] == [thread_id]
            assert client.threads.count(metadata={"tag": "pg"}) == 1
            copied = client.threads.copy(thread_id)["thread_id"]  # the saver's columns
            assert client.threads.get_state(copied)["values"] == {"items": ["hello", "second"]}
            client.store.put_item(["u"], "prefs", {"theme": "dark"})
            dark = client.store.search_items(["u"], filter={"theme": "dark"})["items"]
            assert [item["key"] for item in dark] == ["prefs"]
            cron = client.crons.create_for_thread(thread_id, "chain", schedule="0 9 * * *")
            assert [c["cron_id"] for c in client.crons.search(thread_id=thread_id)] == [
                cron["cron_id"]
            ]
        finally:
            client.http.client.close()
