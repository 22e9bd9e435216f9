"""Webhooks: the run's record and result POSTed to the URL the request named."""

from __future__ import annotations

import http.server
import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """A local HTTP server that keeps every JSON body POSTed to it; shut down after."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_webhook_gets_the_finished_run(client, receiver) -> None:
    url, received = receiver
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "chain", input={"items": []}, webhook=url)
    got = received.get(timeout=20)
    assert got["run_id"] == run["run_id"] and got["status"] == "success"
    assert got["values"] == {"items": ["hello", "second"]}
    client.runs.wait(None, "fail", input={}, webhook=url, raise_error=False)
    failed = received.get(timeout=20)
    assert failed["status"] == "error" and failed["error"]["error"] == "KeyError"


def test_a_bad_webhook_url_is_refused(server: str) -> None:
    body = {"assistant_id": "chain", "input": {}, "webhook": "ftp://x"}
    response = httpx.post(server + "/runs", json=body)
    assert response.status_code == 422 and response.json()["detail"].startswith("webhook")
