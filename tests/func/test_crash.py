"""A functional-API run SIGKILLed mid-entrypoint resumes in a new process, running
only the task calls that had not finished (the shape of ``test_crash_resume.py``)."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from graphpool.checkpoint.sqlite import SqliteSaver

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

WORKER = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "func_crash_worker.py"
)


def _effects(path) -> collections.Counter:
    if not os.path.exists(path):
        return collections.Counter()
    with open(path) as f:
        return collections.Counter(f.read().split())


def _run(*args: str) -> object:
    done = subprocess.run(
        [sys.executable, WORKER, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_sigkill_mid_entrypoint_then_resume_in_a_new_process(tmp_path) -> None:
    db = str(tmp_path / "checkpoints.db")
    log = tmp_path / "effects.txt"
    config = {"configurable": {"thread_id": "crash"}}
    saver = SqliteSaver(db)
    proc = subprocess.Popen(
        [sys.executable, WORKER, db, "crash", str(log), "crash"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30

        def saved() -> set[str]:
            head = saver.get_tuple(config)
            return {r.node for r in head.results if r.succeeded} if head else set()

        while not (
            {"t0", "t1", "t2", "t3", "t4-started"} <= set(_effects(log)) and saved() == {"work"}
        ):
            assert proc.poll() is None, f"worker exited early: {proc.returncode}"
            assert time.monotonic() < deadline, "timed out waiting for the finished calls"
            time.sleep(0.01)
        head = saver.get_tuple(config)
        assert head is not None
        assert len([r for r in head.results if r.succeeded]) == 4  # t0..t3, saved as they finished
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    resumed = _run(db, "crash", str(log), "resume")
    clean_log = tmp_path / "clean.txt"
    clean = _run(db, "clean", str(clean_log), "clean")
    assert resumed == clean == 11111
    counts = _effects(log)
    assert [counts[f"t{i}"] for i in range(5)] == [1, 1, 1, 1, 2]  # only t4 ran again
    assert counts["t4-started"] == 1
