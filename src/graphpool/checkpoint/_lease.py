"""Leases: which run holds a thread, and whether that run is still alive.

A run takes its thread's lease when it starts and gives it back when it ends,
so two runs on one thread at once get :class:`~graphpool.errors.ThreadBusyError`
instead of interleaving their checkpoints. A process killed mid-run cannot give
its lease back; the next run takes it over if the holder is dead: on the same
host when its pid is gone (or now belongs to a process started at another
time, or is a zombie), on another host once it has not been refreshed for the
saver's ``lease_timeout``.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
import time
import uuid

__all__ = ["Lease", "LocalLeases", "holder_alive"]


@dataclasses.dataclass(frozen=True)
class Lease:
    """Who holds a thread while a run uses it; see :meth:`BaseCheckpointSaver.acquire`."""

    owner: str
    pid: int
    host: str
    started: str  # the process's start time (Linux), so a reused pid is not mistaken for it

    @classmethod
    def mine(cls) -> Lease:
        pid = os.getpid()
        if pid not in _STARTED:  # read once per process (a forked child reads its own)
            _STARTED.clear()
            _STARTED[pid] = _process_start(pid)
        return cls(str(uuid.uuid4()), pid, socket.gethostname(), _STARTED[pid])

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


# this process's pid and start time, for Lease.mine (each run takes a lease: reading
# /proc for it each time cost graphpool serve 0.4 ms of its event loop per run)
_STARTED: dict[int, str] = {}


def _process_start(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return ""
    if fields[0] == b"Z":  # a zombie has finished running
        return "zombie"
    return fields[19].decode()


def holder_alive(holder: Lease, refreshed_at: float, timeout: float) -> bool:
    """Whether a recorded lease still belongs to a live run."""
    if holder.host != socket.gethostname():
        return time.time() - refreshed_at < timeout
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _process_start(holder.pid)
    return started != "zombie" and (not holder.started or started == holder.started)


class LocalLeases:
    """Leases kept in this process (for the in-memory saver)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, Lease] = {}

    def take(self, thread_id: str, lease: Lease, take: bool) -> tuple[Lease, float] | None:
        with self._lock:
            holder = self._held.get(thread_id)
            if holder is not None and holder.owner != lease.owner:
                return (holder, time.time()) if take else None
            if take or holder is not None:
                self._held[thread_id] = lease
            return None

    def drop(self, thread_id: str, lease: Lease) -> None:
        with self._lock:
            if (held := self._held.get(thread_id)) is not None and held.owner == lease.owner:
                del self._held[thread_id]
