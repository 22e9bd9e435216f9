"""The run queue's bound: past ``--max-queue`` waiting runs, 503 with Retry-After, and
every run accepted before still runs."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from .conftest import serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_a_full_queue_answers_503_and_loses_nothing(tmp_path: Path) -> None:
    from langgraph_sdk import get_sync_client

    with serve(tmp_path, "--workers", "1", "--max-queue", "2") as url:
        client = get_sync_client(url=url)
        threads = [client.threads.create()["thread_id"] for _ in range(4)]
        first = client.runs.create(threads[0], "slow", input={"items": []})
        deadline = time.monotonic() + 20
        while client.runs.get(threads[0], first["run_id"])["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        accepted = [first] + [
            client.runs.create(t, "slow", input={"items": []}) for t in threads[1:3]
        ]
        refused = httpx.post(
            f"{url}/threads/{threads[3]}/runs", json={"assistant_id": "slow", "input": {}}
        )
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        for run in accepted:
            assert client.runs.join(run["thread_id"], run["run_id"]) == {"items": ["slept"]}
            assert client.runs.get(run["thread_id"], run["run_id"])["status"] == "success"
        client.http.client.close()
