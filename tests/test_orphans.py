"""No orphans: the processes a host started for its process nodes end when it is SIGKILLed.

A host process (a subprocess here) runs a graph whose process node never
returns; the test kills the host with SIGKILL and then expects every process
the host started (the worker, the fork server, the resource tracker) to be
gone within seconds. Each test kills whatever it found by pid at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from polling import wait_until

import graphpool

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc"),
]

HOST = """
import os, sys, time
from typing import TypedDict
from graphpool import START, StateGraph

PID_FILE, HOW = sys.argv[1:3]

class S(TypedDict, total=False):
    x: int

def stuck(state):
    with open(PID_FILE, "w") as f:
        f.write(str(os.getpid()))
    how = HOW
    if how == "spin":  # a Python loop: the interpreter still switches threads
        while True:
            pass
    if how == "gil":  # one C call that never lets go of the GIL
        return sum(range(10**15))
    time.sleep(600)

b = StateGraph(S)
b.add_node("stuck", stuck, executor="process")
b.add_edge(START, "stuck")
b.compile().invoke({})
"""


def parents() -> dict[int, int]:
    """pid -> parent pid, for every process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def descendants(root: int) -> set[int]:
    tree = parents()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in tree.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, just not reaped


def command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize("how", ["spin", "gil", "sleep"])
def test_a_sigkilled_host_leaves_no_process_behind(tmp_path: Path, how: str) -> None:
    script, pid_file = tmp_path / "host.py", tmp_path / "worker.pid"
    script.write_text(textwrap.dedent(HOST))
    env = dict(os.environ, PYTHONPATH=str(Path(graphpool.__file__).parents[1]))
    host = subprocess.Popen(
        [sys.executable, str(script), str(pid_file), how],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started: dict[int, bytes] = {}  # pid -> command line (to kill only what we started)
    try:
        assert wait_until(lambda: pid_file.exists() and pid_file.read_text(), 60)
        worker = int(pid_file.read_text())
        started = {pid: command(pid) for pid in descendants(host.pid)}
        assert worker in started
        assert any(b"forkserver" in c for c in started.values()), started
        assert any(b"resource_tracker" in c for c in started.values()), started

        host.send_signal(signal.SIGKILL)
        host.wait(10)
        left = lambda: {pid for pid in started if alive(pid)}  # noqa: E731
        assert wait_until(lambda: not left(), 8), {pid: started[pid][:80] for pid in left()}
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
        for pid, line in started.items():
            if alive(pid) and command(pid) == line:
                os.kill(pid, signal.SIGKILL)
