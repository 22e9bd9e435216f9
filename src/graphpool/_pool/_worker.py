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
* Nothing outlives the host, even one killed with SIGKILL
  (``tests/test_orphans.py``). The fork server exits when its parent, the
  host, does: a thread of its own waits for that (it runs no user code, so the
  thread always gets to run). Each worker asks the kernel for SIGKILL when its
  parent, the fork server, exits (Linux), which stops even a node stuck in a C
  call that never releases the GIL; and a thread in each worker waits on the
  pipe only the host holds open, for the cases the signal does not cover
  (other systems, a fork server someone else started). The resource tracker
  then exits by itself: the last process holding its pipe is gone.
"""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import multiprocessing.forkserver
import multiprocessing.spawn
import os
import pickle
import select
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

# What a worker needs, imported here so that the fork server has it preloaded
# (the host imports this module only once it makes a process pool).
import cloudpickle
import pebble.pool.process  # noqa: F401  (the worker's main loop)

__all__ = ["WORKER_CONTEXT", "call_in_worker", "exit_with_host", "start_fork_server"]

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


# -- ending with the host ----------------------------------------------------------

_PR_SET_PDEATHSIG = 1


def exit_with_host() -> None:
    """Runs in each worker as it starts: make sure it ends when the host does."""
    parent = os.getppid()  # the fork server
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # it died before the request took effect
            os._exit(1)
    host = multiprocessing.parent_process()
    if host is not None and host.sentinel is not None:
        sentinel = host.sentinel
        _watch(lambda: multiprocessing.connection.wait([sentinel]))


def _exit_with_parent() -> None:
    """Runs in the fork server: exit once the host (its parent) is gone."""
    parent = os.getppid()
    try:
        pidfd = os.pidfd_open(parent)
    except (AttributeError, OSError):  # not Linux >= 5.3: look twice a second
        _watch(lambda: _poll_parent(parent))
    else:
        _watch(lambda: _wait_readable(pidfd))
    if os.getppid() != parent:
        os._exit(0)


def _wait_readable(fd: int) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while not poller.poll():
        pass


def _poll_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)


def _watch(wait: Any) -> None:
    def watch() -> None:
        wait()
        os._exit(0)

    threading.Thread(target=watch, name="graphpool-host-watch", daemon=True).start()


def _preloaded_by_fork_server() -> bool:
    """Whether this module is being imported by the fork server's preload."""
    main = getattr(multiprocessing.forkserver, "main", None)
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is getattr(main, "__code__", None):
            return True
        frame = frame.f_back
    return False


if _preloaded_by_fork_server():
    _exit_with_parent()
