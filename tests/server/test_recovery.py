"""A server killed mid-run: started again on its database, it finishes the run from the
last checkpoint, and a client streaming with ``stream_resumable`` sees every event once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from .conftest import free_port, start, stop, stream_crash_run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]


def _wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + 20
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never written to {path}"
        time.sleep(0.05)


def test_killed_server_resumes_the_run_and_the_stream(tmp_path: Path) -> None:
    from langgraph_sdk import get_sync_client

    port = free_port()
    database = tmp_path / "serve.db"
    tally = tmp_path / "tally"
    first = start(tmp_path, port, database)
    second = None
    client = get_sync_client(url=f"http://127.0.0.1:{port}")
    try:
        thread_id = client.threads.create()["thread_id"]
        seen = []
        parts = stream_crash_run(client, thread_id)
        for part in parts:  # the SDK reconnects (Location, Last-Event-ID) by itself
            seen.append(part)
            if part.event == "updates" and "early" in part.data and second is None:
                _wait_for(tally, "later waiting")  # "early" is checkpointed by now
                stop(first, signal.SIGKILL)
                (tmp_path / "go").touch()
                second = start(tmp_path, port, database)
        assert second is not None
        ids = [int(part.id) for part in seen]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # no gap, no duplicate
        updates = [part.data for part in seen if part.event == "updates"]
        assert updates == [{"early": {"items": ["early"]}}, {"later": {"items": ["later"]}}]
        lines = tally.read_text().split("\n")
        assert lines.count("early") == 1  # the finished step did not run again
        assert lines.count("later done") == 1
        run = client.runs.list(thread_id)[0]
        assert run["status"] == "success"
        assert client.threads.get_state(thread_id)["values"] == {"items": ["early", "later"]}
    finally:
        client.http.client.close()
        stop(first, signal.SIGKILL)
        if second is not None:
            stop(second)
