"""Failover: two ``graphpool serve`` processes on one throwaway PostgreSQL database,
behind a switch that sends each new connection to a live server (a load balancer).
The server running a streaming run is SIGKILLed mid-step and the switch cuts its
clients off; the other server takes the run over from its last checkpoint, and the
client's own reconnect (``Location``, ``Last-Event-ID``) shows every event exactly
once. The tally file each node appends to (with its pid) shows that the finished
step did not run again and that the cut step ran again on the other server.
Cancelling a run through the server that does not run it stops it too.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, start, stop, stream_crash_run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

LEASE = "3"  # seconds: a dead server's runs are taken over within a third of it


class Switch:
    """A TCP forwarder on 127.0.0.1: each new connection goes to ``backend`` as it
    is at that moment; connections to a backend that dies are closed with it."""

    def __init__(self, backend: int) -> None:
        self.backend = backend
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.sockets: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.backend))
            except OSError:
                client.close()
                continue
            self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                pump = threading.Thread(target=_pump, args=(source, target), daemon=True)
                self.threads.append(pump)
                pump.start()

    def cut(self) -> None:
        """End every open connection (their clients connect again)."""
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close does not)
        self.listener.close()
        self.cut()
        for sock in self.sockets:
            sock.close()
        for thread in self.threads:
            thread.join(5)


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _wait_for(path: Path, text: str) -> None:
    deadline = time.monotonic() + 30
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{text!r} never written to {path}"
        time.sleep(0.05)


@contextlib.contextmanager
def two_servers(tmp: Path, database: str) -> Iterator[list[tuple[subprocess.Popen[bytes], int]]]:
    """Two ``graphpool serve`` on ``database`` (started at once: each takes seconds to
    import); each as (process, port); killed by pid when the block ends."""
    ports = [free_port(), free_port()]
    with ThreadPoolExecutor(2) as starting:
        launched = [
            starting.submit(
                start, tmp, port, database, "--lease-seconds", LEASE, config="failover.json"
            )
            for port in ports
        ]
    servers = [
        (f.result(), port) for f, port in zip(launched, ports, strict=True) if f.exception() is None
    ]
    try:
        if len(servers) < 2:
            raise AssertionError([future.exception() for future in launched])
        yield servers
    finally:
        for server, _ in servers:
            stop(server, signal.SIGKILL)


def _runner(tally: Path, servers: list[tuple[subprocess.Popen[bytes], int]]) -> int:
    """Which of ``servers`` runs the "crash" graph's step two (its pid is in the tally)."""
    _wait_for(tally, "later waiting")
    pid = int(tally.read_text().split("later waiting ")[1].split()[0])
    return next(i for i, (server, _) in enumerate(servers) if server.pid == pid)


def test_a_killed_servers_run_finishes_on_the_other(tmp_path: Path, pg_database: str) -> None:
    with two_servers(tmp_path, pg_database) as servers:
        _failover(tmp_path, servers)


def _failover(tmp_path: Path, servers: list[tuple[subprocess.Popen[bytes], int]]) -> None:
    from langgraph_sdk import get_sync_client

    tally = tmp_path / "tally"
    switch = Switch(servers[0][1])
    client = get_sync_client(url=f"http://127.0.0.1:{switch.port}")
    victim = survivor = None
    try:
        thread_id = client.threads.create()["thread_id"]
        seen = []
        parts = stream_crash_run(client, thread_id)
        for part in parts:  # the SDK reconnects (Location, Last-Event-ID) by itself
            seen.append(part)
            if part.event == "updates" and "early" in part.data and victim is None:
                index = _runner(tally, servers)  # step two runs there now
                victim, survivor = servers[index][0], servers[1 - index]
                switch.backend = survivor[1]
                stop(victim, signal.SIGKILL)
                switch.cut()
                (tmp_path / "go").touch()
        assert victim is not None and survivor is not None
        ids = [int(part.id) for part in seen]
        assert ids == list(range(len(ids)))  # every event once: no gap, no duplicate
        updates = [part.data for part in seen if part.event == "updates"]
        assert updates == [{"early": {"items": ["early"]}}, {"later": {"items": ["later"]}}]
        attempts = [part.data["attempt"] for part in seen if part.event == "metadata"]
        assert attempts == [1, 2]  # the survivor's attempt continued the stream
        lines = tally.read_text().split("\n")
        assert lines.count("early") == 1  # the finished step did not run again
        waiting = [line.split()[-1] for line in lines if line.startswith("later waiting")]
        assert waiting == [str(victim.pid), str(survivor[0].pid)]  # the cut step did, there
        assert lines.count("later done") == 1
        run = client.runs.list(thread_id)[0]
        assert run["status"] == "success"
        assert client.threads.get_state(thread_id)["values"] == {"items": ["early", "later"]}
    finally:
        client.http.client.close()
        switch.close()


def test_a_run_is_cancelled_through_the_server_not_running_it(
    tmp_path: Path, pg_database: str
) -> None:
    from langgraph_sdk import get_sync_client

    with two_servers(tmp_path, pg_database) as servers:
        clients = [get_sync_client(url=f"http://127.0.0.1:{port}") for _, port in servers]
        try:
            thread_id = clients[0].threads.create()["thread_id"]
            run = clients[0].runs.create(thread_id, "crash", input={"items": []})
            other = clients[1 - _runner(tmp_path / "tally", servers)]
            other.runs.cancel(thread_id, run["run_id"], wait=True)
            assert other.runs.get(thread_id, run["run_id"])["status"] == "interrupted"
            assert clients[0].threads.get(thread_id)["status"] != "busy"
        finally:
            for client in clients:
                client.http.client.close()


def test_a_thread_is_followed_through_the_server_not_running_its_run(
    tmp_path: Path, pg_database: str
) -> None:
    from langgraph_sdk import get_sync_client

    with two_servers(tmp_path, pg_database) as servers:
        client = get_sync_client(url=f"http://127.0.0.1:{servers[0][1]}")
        try:
            thread_id = client.threads.create()["thread_id"]
            run = client.runs.create(thread_id, "crash", input={"items": []}, stream_mode="updates")
            other = servers[1 - _runner(tmp_path / "tally", servers)][1]
            events: list[tuple[str, object]] = []
            with httpx.Client(base_url=f"http://127.0.0.1:{other}", timeout=30) as raw:
                # subscribed once the response has started: then step two may end
                with raw.stream("GET", f"/threads/{thread_id}/stream") as response:
                    (tmp_path / "go").touch()
                    event = None
                    for line in response.iter_lines():
                        if line.startswith("event: "):
                            event = line[len("event: ") :]
                        elif line.startswith("data: ") and event is not None:
                            events.append((event, json.loads(line[len("data: ") :])))
                            if event == "updates":
                                break
            assert events == [("updates", {"later": {"items": ["later"]}})]
            client.runs.join(thread_id, run["run_id"])
        finally:
            client.http.client.close()
