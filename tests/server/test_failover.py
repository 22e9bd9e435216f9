"""Failover: two ``graphpool serve`` processes on one throwaway PostgreSQL database,
behind a switch that sends each new connection to a live server (a load balancer).
The server running a streaming run is SIGKILLed mid-step and the switch cuts its
clients off; the other server takes the run over from its last checkpoint, and the
client's own reconnect (``Location``, ``Last-Event-ID``) shows every event exactly
once. The tally file each node appends to (with its pid) shows that the finished
step did not run again and that the cut step ran again on the other server.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import free_port, start, stop

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


def test_a_killed_servers_run_finishes_on_the_other(tmp_path: Path, pg_database: str) -> None:
    from langgraph_sdk import get_sync_client

    tally = tmp_path / "tally"
    ports = [free_port(), free_port()]
    with ThreadPoolExecutor(2) as starting:  # both at once: each takes seconds to import
        launched = [
            starting.submit(start, tmp_path, port, pg_database, "--lease-seconds", LEASE)
            for port in ports
        ]
    servers = [future.result() for future in launched if future.exception() is None]
    if len(servers) < 2:
        for server in servers:
            stop(server, signal.SIGKILL)
        raise AssertionError([future.exception() for future in launched])
    switch = Switch(ports[0])
    client = get_sync_client(url=f"http://127.0.0.1:{switch.port}")
    victim: subprocess.Popen[bytes] | None = None
    try:
        thread_id = client.threads.create()["thread_id"]
        seen = []
        parts = client.runs.stream(
            thread_id,
            "crash",
            input={"items": []},
            stream_mode="updates",
            stream_resumable=True,
            durability="sync",
        )
        for part in parts:  # the SDK reconnects (Location, Last-Event-ID) by itself
            seen.append(part)
            if part.event == "updates" and "early" in part.data and victim is None:
                _wait_for(tally, "later waiting")  # step two runs, on one of the servers
                runner = int(tally.read_text().split("later waiting ")[1].split()[0])
                victim = next(server for server in servers if server.pid == runner)
                survivor = servers[1 - servers.index(victim)]
                switch.backend = ports[servers.index(survivor)]
                stop(victim, signal.SIGKILL)
                switch.cut()
                (tmp_path / "go").touch()
        assert victim is not None
        ids = [int(part.id) for part in seen]
        assert ids == list(range(len(ids)))  # every event once: no gap, no duplicate
        updates = [part.data for part in seen if part.event == "updates"]
        assert updates == [{"early": {"items": ["early"]}}, {"later": {"items": ["later"]}}]
        attempts = [part.data["attempt"] for part in seen if part.event == "metadata"]
        assert attempts == [1, 2]  # the survivor's attempt continued the stream
        lines = tally.read_text().split("\n")
        assert lines.count("early") == 1  # the finished step did not run again
        waiting = [line.split()[-1] for line in lines if line.startswith("later waiting")]
        assert waiting == [str(victim.pid), str(survivor.pid)]  # the cut step did, there
        assert lines.count("later done") == 1
        run = client.runs.list(thread_id)[0]
        assert run["status"] == "success"
        assert client.threads.get_state(thread_id)["values"] == {"items": ["early", "later"]}
    finally:
        client.http.client.close()
        switch.close()
        for server in servers:
            stop(server, signal.SIGKILL)
