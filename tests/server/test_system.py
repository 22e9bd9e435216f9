"""``/ok``, ``/info`` and ``/metrics``."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_ok_and_info(server: str) -> None:
    assert httpx.get(server + "/ok").json() == {"ok": True}
    info = httpx.get(server + "/info").json()
    assert info["flags"]["crons"] is True


def test_metrics_count_runs_by_status(server: str, client) -> None:
    def successes() -> int:
        text = httpx.get(server + "/metrics").text
        (line,) = [
            x for x in text.splitlines() if x.startswith('graphpool_serve_runs{status="success"}')
        ]
        return int(line.split()[-1])

    thread_id = client.threads.create()["thread_id"]
    before = successes()
    client.runs.wait(thread_id, "chain", input={"items": []})
    assert successes() == before + 1
    assert "# TYPE graphpool_serve_running_here gauge" in httpx.get(server + "/metrics").text
