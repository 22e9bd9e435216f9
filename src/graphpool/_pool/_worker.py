"""The worker side of the process pool: how a worker process starts and runs a call.

* Workers are forked by a fork server (CPython's ``forkserver``), so they
  never inherit the host's threads or locks. The first worker start launches
  the server with this module preloaded: graphpool, cloudpickle and pebble are
  imported once, in the server, and every worker forked from it starts ready
  (a fork, where a fresh interpreter importing graphpool takes a few hundred
  milliseconds). That is what makes starting workers on demand cheap.
* The main script is not re-run in workers (plain multiprocessing would):
  functions defined there travel by value, so a script that builds and runs a
  graph at top level needs no ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import asyncio
import multiprocessing.context
import multiprocessing.forkserver
import multiprocessing.spawn
import pickle
import threading
from typing import Any

# What a worker needs, imported here so that the fork server has it preloaded
# (the host imports this module only once it makes a process pool).
import cloudpickle
import pebble.pool.process  # noqa: F401  (the worker's main loop)

__all__ = ["WORKER_CONTEXT", "call_in_worker", "start_fork_server"]

_starting = threading.local()
_preparation_data = multiprocessing.spawn.get_preparation_data


def _without_main(name: str) -> dict[str, Any]:
    """multiprocessing's start-up data, minus "import the main script" for our workers."""
    data = _preparation_data(name)
    if getattr(_starting, "worker", False):
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
    return data


multiprocessing.spawn.get_preparation_data = _without_main


def _preload_in_fork_server() -> None:
    """Have the fork server import this module before it forks anyone, unless it runs already.

    The server is shared by everything in this process that uses the
    ``forkserver`` start method; modules others asked to preload are kept.
    """
    server: Any = getattr(multiprocessing.forkserver, "_forkserver", None)
    if server is None or getattr(server, "_forkserver_pid", None) is not None:
        return
    modules = list(getattr(server, "_preload_modules", None) or [])
    if __name__ not in modules:
        server.set_forkserver_preload([*modules, __name__])


def start_fork_server() -> None:
    """Launch the fork server now (if it is not running), preloaded, so that the
    first worker start does not wait for its interpreter and imports."""
    _preload_in_fork_server()
    _starting.worker = True
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        _starting.worker = False


class _WorkerProcess(multiprocessing.context.ForkServerProcess):
    def start(self) -> None:
        _preload_in_fork_server()
        _starting.worker = True
        try:
            super().start()
        finally:
            _starting.worker = False


class _WorkerContext(multiprocessing.context.ForkServerContext):
    Process = _WorkerProcess


WORKER_CONTEXT = _WorkerContext()
"""The multiprocessing context every graphpool worker process is started with."""


def call_in_worker(payload: bytes) -> bytes:
    """Runs in the worker process: unpickle the call, run it, pickle the result."""
    fn, arg = cloudpickle.loads(payload)
    result = fn(arg)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return cloudpickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
