"""Shared fixtures: pools made per test and torn down by pid afterwards."""

from __future__ import annotations

import os
import signal

import pytest

import graphpool
from graphpool._pool import Pools


@pytest.fixture(params=["thread"])
def pool(request: pytest.FixtureRequest):
    """A fresh pool of each kind, shut down after the test."""
    made = {"thread": lambda: graphpool.ThreadPool(max_workers=16)}[request.param]()
    yield made
    made.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def pools():
    """Private thread and process pools for one test; every worker process is
    killed by pid at teardown, whatever the test did to them."""
    processes: list[graphpool.ProcessPool] = []

    def make_process_pool() -> graphpool.ProcessPool:
        processes.append(graphpool.ProcessPool(max_workers=2))
        return processes[-1]

    threads = graphpool.ThreadPool(max_workers=8)
    made = Pools(threads, make_process_pool)
    yield made
    threads.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        pids = proc.worker_pids()
        proc.shutdown(wait=True, cancel_futures=True)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
