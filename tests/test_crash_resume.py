"""Durable resume after a crash: a real process is SIGKILLed mid-step and another
process finishes its thread, re-running only the task that had not finished."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time
import uuid

import crash_worker
import pytest
from conftest import make_saver

from graphpool import ThreadBusyError

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash_worker.py")


def run_worker(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, WORKER, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_for(condition, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert proc.poll() is None, f"worker exited early waiting for {what}: {proc.returncode}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def effects(path) -> collections.Counter:
    if not os.path.exists(path):
        return collections.Counter()
    with open(path) as f:
        return collections.Counter(f.read().split())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_in_step_6_then_resume_in_a_new_process(backend, tmp_path, request) -> None:
    saver = make_saver(backend, tmp_path, request)
    dsn = (
        str(tmp_path / "checkpoints.db")
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    thread_id = f"crash-{uuid.uuid4().hex[:8]}"
    config = {"configurable": {"thread_id": thread_id}}
    log = tmp_path / "effects.txt"

    proc = subprocess.Popen(
        [sys.executable, WORKER, backend, dsn, thread_id, str(log), "crash"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # b1 and b2 done and b3 running, and the results of b1 and b2 saved
        wait_for(lambda: {"b1", "b2", "b3-started"} <= set(effects(log)), "branches", proc)

        def saved_branches() -> set[str]:
            head = saver.get_tuple(config)
            return {r.node for r in head.results if r.succeeded} if head else set()

        wait_for(lambda: saved_branches() == {"b1", "b2"}, "saved results", proc)
        assert saver.get_tuple(config).metadata["step"] == 5  # step 6 is running
        # a second process on the thread now gets a clear error, not an interleaved run
        with pytest.raises(ThreadBusyError) as busy:
            crash_worker.build(str(log), "resume", saver).invoke(None, config)
        assert busy.value.owner.startswith(f"{proc.pid}@")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    resumed = run_worker(backend, dsn, thread_id, str(log), "resume")
    clean_log = tmp_path / "clean.txt"
    clean = run_worker(backend, dsn, f"clean-{thread_id}", str(clean_log), "clean")

    assert resumed == clean
    assert resumed["total"] == 15 + 60 + 100 + 6000
    counts = effects(log)
    assert counts["b1"] == 1 and counts["b2"] == 1  # the finished branches did not run again
    assert counts["b3"] == 2 and counts["b3-started"] == 1  # killed once, then ran to the end
    for name in ["s1", "s2", "s3", "s4", "s5", "j", "t8", "t9", "t10"]:
        assert counts[name] == 1, name
    assert effects(clean_log) == collections.Counter(
        ["s1", "s2", "s3", "s4", "s5", "b1", "b2", "b3", "j", "t8", "t9", "t10"]
    )
    steps = [h.checkpoint.step for h in saver.list(config)]
    assert steps == list(range(10, -2, -1))  # one checkpoint per step, none lost or doubled
