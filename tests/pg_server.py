"""A throwaway PostgreSQL server on 127.0.0.1 for the tests (Debian's binaries).

``start()`` runs ``initdb`` and ``pg_ctl start`` in a temporary directory, on a
free port, as the ``postgres`` user when the tests run as root (PostgreSQL
refuses to run as root); ``stop()`` stops that server (its postmaster pid) and
removes the directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

__all__ = ["PgServer", "find_binaries"]


def find_binaries() -> str | None:
    """The ``bin`` directory of the newest installed PostgreSQL, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0,
    )
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return False


@dataclass
class PgServer:
    bindir: str
    root: str = ""
    port: int = 0
    pid: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    def start(self) -> PgServer:
        self.root = tempfile.mkdtemp(prefix="graphpool-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = os.path.join(self.root, "data")
        self._run(
            f"{self.bindir}/initdb",
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.port = _free_port()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F -c max_connections=50"
        log = os.path.join(self.root, "server.log")
        self._run(f"{self.bindir}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
        with open(os.path.join(data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self

    def stop(self) -> None:
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGQUIT)  # immediate shutdown of this postmaster
                for _ in range(200):
                    os.kill(self.pid, 0)
                    if _zombie(self.pid):
                        break
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
            self.pid = 0
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = ""
