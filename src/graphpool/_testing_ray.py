"""A real multi-node Ray cluster on this machine, on loopback only (tests, benchmarks, demos).

A test helper, not part of the runtime: it lives beside ``graphpool.testing``
(which exports :class:`LocalRayCluster`), outside ``graphpool._pool``, and the
runtime never imports it.

Each Ray node is its own ``ray start --block`` process, with its own raylet and
object store: a head, then workers that join it, just as on separate machines.
Ray would advertise the machine's outward address and listen on every
interface; here every node is told ``127.0.0.1`` and kept there (see
:func:`keep_loopback`), so nothing listens beyond loopback. The cluster uses
Ray's token authentication with a fresh token. Every process it started is
stopped by process group at the end.

Drivers reach it as Ray's own rules say (the runtime never patches Ray): while
the cluster runs, this process keeps loopback addresses as given (for a driver
in this process), and its environment holds ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``,
Ray's switch that makes a driver started from here use 127.0.0.1 as its own
address, as the nodes do.

Run as ``python -m graphpool._testing_ray start ...`` it is Ray's own
``ray`` command line, with loopback addresses kept as given.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["LocalRayCluster", "keep_loopback"]

_AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch: set to 0, a Ray driver (or a single ``ray start --head``) uses
127.0.0.1 as this machine's address (it refuses to start a worker node, though)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRayCluster:
    """Start ``nodes`` Ray nodes as separate processes on 127.0.0.1; a context manager.

    Args:
        nodes: how many Ray nodes (the first is the head).
        num_cpus: CPUs each node offers to Ray.
        object_store_memory: bytes of object store per node.
        worker_resources: custom resources of the non-head nodes, e.g.
            ``{"gpu_box": 1}``, so a node asking for them lands there.

    ``address`` is what a driver joins (``RayPool(address=cluster.address)``).
    While the cluster runs, this process's environment holds its auth token
    settings (``RAY_AUTH_MODE``, ``RAY_AUTH_TOKEN_PATH``) and
    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, so a driver here or started from
    here can connect; they are restored on :meth:`stop`.
    """

    def __init__(
        self,
        nodes: int = 2,
        *,
        num_cpus: int = 1,
        object_store_memory: int = 200_000_000,
        worker_resources: Mapping[str, float] | None = None,
    ) -> None:
        self.nodes = nodes
        self.num_cpus = num_cpus
        self.object_store_memory = object_store_memory
        self.worker_resources = dict(worker_resources or {})
        self.address = ""
        self.processes: list[subprocess.Popen[bytes]] = []
        self._folder: Path | None = None
        self._saved_env: dict[str, str | None] = {}
        self._loopback: contextlib.ExitStack | None = None

    def __repr__(self) -> str:
        return f"<LocalRayCluster {self.address or 'stopped'} nodes={len(self.processes)}>"

    def __enter__(self) -> LocalRayCluster:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def pids(self) -> list[int]:
        """Pids of the ``ray start`` processes, one per node (each leads its process group)."""
        return [p.pid for p in self.processes]

    def start(self, timeout: float = 60) -> None:
        """Start the head, then the other nodes; return once every node is up."""
        self._folder = Path(tempfile.mkdtemp(prefix="gp-ray-"))
        token = self._folder / "auth_token"
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        env = self._environment(token)
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        common = [
            "--block",
            f"--temp-dir={self._folder / 'ray'}",  # Ray's sessions and logs, removed at stop
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={self.num_cpus}",
            f"--object-store-memory={self.object_store_memory}",
            "--disable-usage-stats",
        ]
        try:
            head = [f"--port={port}", "--include-dashboard=false"]
            self._launch("node0", ["--head", *head, *common], env, timeout)
            for i in range(1, self.nodes):
                extra = [f"--address={self.address}"]
                if self.worker_resources:
                    extra.append(f"--resources={json.dumps(self.worker_resources)}")
                self._launch(f"node{i}", [*extra, *common], env, timeout)
        except BaseException:
            self.stop()
            raise
        for name, value in (*((n, env[n]) for n in _AUTH_ENV), (LOOPBACK_ENV, "0")):
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        _reload_ray_config()
        if "ray" in sys.modules:  # already imported: it read the switch above too early
            self._loopback = contextlib.ExitStack()
            self._loopback.enter_context(keep_loopback(sys.modules["ray"]))

    def _environment(self, token: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.pop(LOOPBACK_ENV, None)  # set by a running cluster: worker nodes refuse it
        env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
        # Ray workers import graphpool (and run node functions) from here.
        home = str(package_root())
        env["PYTHONPATH"] = os.pathsep.join(p for p in (home, env.get("PYTHONPATH")) if p)
        return env

    def _launch(self, name: str, args: list[str], env: dict[str, str], timeout: float) -> None:
        assert self._folder is not None
        log = self._folder / f"{name}.log"
        command = [sys.executable, "-m", __name__, "start", *args]
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes.append(process)
        deadline = time.monotonic() + timeout
        while b"Ray runtime started" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"Ray node {name} did not start ({' '.join(args)}):\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop every node: SIGTERM to each ``ray start``, then SIGKILL to its process group."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:  # raylet, object store, workers: all in the node's process group
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
        self.processes.clear()
        if self._loopback is not None:
            self._loopback.close()
            self._loopback = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self.address = ""


def package_root() -> Path:
    """The folder holding the ``graphpool`` package (goes on the Ray nodes' ``PYTHONPATH``)."""
    return Path(__file__).resolve().parent.parent


def _reload_ray_config() -> None:
    """Ray reads ``RAY_AUTH_MODE`` when imported; if it already is, make it read
    again (as Ray itself does when it turns token auth on)."""
    raylet = sys.modules.get("ray._raylet")
    config = getattr(raylet, "Config", None)
    if config is not None and hasattr(config, "initialize"):
        config.initialize("")


@contextlib.contextmanager
def keep_loopback(ray: Any) -> Iterator[None]:
    """Let Ray keep a loopback address as given (a test helper; the runtime never does this).

    Ray rewrites ``127.0.0.1``/``localhost`` to the machine's outward address,
    and its servers then listen on every interface. Kept on loopback, a node
    listens on 127.0.0.1 only, and a driver in this process reaches a head
    started on loopback. (A Ray private hook; if a Ray version lacks it, Ray's
    default holds.)
    """
    services: Any = getattr(getattr(ray, "_private", None), "services", None)
    original = getattr(services, "resolve_ip_for_localhost", None)
    if original is None:
        yield
        return
    services.resolve_ip_for_localhost = lambda host: host
    try:
        yield
    finally:
        services.resolve_ip_for_localhost = original


def main(argv: list[str] | None = None) -> int:
    """Ray's ``ray`` command line, keeping loopback addresses as given."""
    from ._pool._ray import require_ray

    ray = require_ray()
    from ray.scripts.scripts import main as ray_main

    sys.argv = ["ray", *(sys.argv[1:] if argv is None else argv)]
    with keep_loopback(ray):
        return int(ray_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
