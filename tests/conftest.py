"""Shared fixtures: pools made per test and torn down by pid afterwards, and every
checkpointer test once per saver (in memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator

import pytest

import graphpool
from graphpool._pool import Pools
from graphpool.checkpoint import BaseCheckpointSaver, InMemorySaver

sys.path.insert(0, os.path.dirname(__file__))  # tests/pg_server.py, tests/crash_worker.py

from pg_server import PgServer, find_binaries

SAVERS = ["memory", "sqlite", "postgres"]


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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1, started once per test session.

    Skips (with the reason) only when the server binaries are not installed;
    ``.ci/run`` installs them, so CI always runs these tests.
    """
    bindir = find_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    pytest.importorskip(
        "psycopg", reason="psycopg not installed (pip install 'graphpool[postgres]')"
    )
    server = PgServer(bindir).start()
    try:
        yield server.url
    finally:
        server.stop()


def make_saver(kind: str, tmp_path, request: pytest.FixtureRequest) -> BaseCheckpointSaver:
    """A fresh saver of ``kind``; closed when the test ends."""
    if kind == "memory":
        return InMemorySaver()
    if kind == "sqlite":
        from graphpool.checkpoint.sqlite import SqliteSaver

        saver = SqliteSaver(tmp_path / "checkpoints.db")
    else:
        from graphpool.checkpoint.postgres import PostgresSaver

        saver = PostgresSaver(request.getfixturevalue("postgres_url"))
    request.addfinalizer(saver.close)
    return saver


@pytest.fixture(params=SAVERS)
def saver(request: pytest.FixtureRequest, tmp_path) -> BaseCheckpointSaver:
    """A fresh saver of each kind (threads are told apart by unique thread ids)."""
    return make_saver(request.param, tmp_path, request)
