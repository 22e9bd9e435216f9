"""Failure manager: timeouts, dead workers, retries, isolation. Each test tears its pools down."""

from __future__ import annotations

import asyncio
import operator
import os
import threading
import time
from pathlib import Path
from typing import Annotated, TypedDict

import pytest

from graphpool import (
    END,
    START,
    NodeTimeoutError,
    RetryPolicy,
    StateGraph,
    ThreadPool,
    WorkerCrashedError,
)
from graphpool._pool import Pools
from graphpool.testing import crash_first, crash_sometimes

FAST_RETRY = RetryPolicy(initial_interval=0.01, backoff_factor=1.0, jitter=False, max_attempts=10)


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def count(path: Path) -> int:
    return len(path.read_text()) if path.exists() else 0


def test_worker_that_exits_is_retried_and_siblings_are_not_recomputed(pools, tmp_path) -> None:
    ran_b = tmp_path / "b.count"

    def b_node(state: S) -> dict:
        with open(ran_b, "a") as f:
            f.write("x")
        return {"log": ["b"]}

    b = StateGraph(S)
    b.add_node(
        "a",
        crash_first(lambda s: {"log": ["a"]}, tmp_path / "a.marker"),
        executor="process",
        retry_policy=FAST_RETRY,
    )
    b.add_node("b", b_node, executor="process")
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    graph = b.compile()
    graph._pools = pools
    assert graph.invoke({})["log"] == ["a", "b"]
    assert count(ran_b) == 1  # the sibling's finished work was kept


def test_a_crash_without_retry_fails_only_its_run(pools, tmp_path) -> None:
    b = StateGraph(S)
    b.add_node("boom", crash_first(lambda s: {"x": 1}, tmp_path / "m"), executor="process")
    b.add_edge(START, "boom")
    crashing = b.compile()
    crashing._pools = pools

    ok = StateGraph(S)
    ok.add_node("fine", lambda s: {"x": os.getpid()}, executor="process")
    ok.add_edge(START, "fine")
    healthy = ok.compile()
    healthy._pools = pools

    with pytest.raises(WorkerCrashedError, match="'boom'") as info:
        crashing.invoke({})
    assert info.value.node == "boom" and info.value.attempt == 1
    assert healthy.invoke({})["x"] != os.getpid()  # the pool healed


def test_hung_thread_node_times_out_and_its_thread_keeps_its_slot_until_it_returns() -> None:
    # A thread cannot be killed: the timed-out body keeps running, and keeps its
    # slot of max_workers (no replacement thread), until it returns; then the
    # thread serves the pool again (ThreadPool's docstring, test_pool_bounds.py).
    threads = ThreadPool(max_workers=2)
    release = threading.Event()
    try:
        hang = StateGraph(S)
        hang.add_node("stuck", lambda s: release.wait(60) and None, timeout=1)
        hang.add_edge(START, "stuck")
        graph = hang.compile()
        graph._pools = Pools(threads, lambda: None)  # type: ignore[arg-type,return-value]
        started = time.monotonic()
        with pytest.raises(NodeTimeoutError, match=r"'stuck' timed out after 1 s") as info:
            graph.invoke({})
        assert time.monotonic() - started < 1.5
        assert info.value.timeout == 1
        stats = threads.stats()
        assert (stats.workers, stats.busy, stats.abandoned) == (1, 1, 1)

        # Two parallel nodes that must meet need both threads: one is free now,
        # the other once the abandoned body returns.
        meet = threading.Barrier(2, timeout=10)
        pair = StateGraph(S)
        for name in ("p", "q"):
            pair.add_node(name, lambda s, name=name: (meet.wait() and None) or {"log": [name]})
            pair.add_edge(START, name)
        second = pair.compile()
        second._pools = graph._pools
        threading.Timer(0.3, release.set).start()
        assert second.invoke({})["log"] == ["p", "q"]
        stats = threads.stats()
        assert stats.workers <= 2 and stats.abandoned == 0
    finally:
        release.set()
        threads.shutdown(wait=True, cancel_futures=True)


def test_hung_process_node_is_killed_and_replaced(pools, tmp_path) -> None:
    pid_file = tmp_path / "pid"

    def stuck(state: S) -> dict:
        pid_file.write_text(str(os.getpid()))
        time.sleep(600)
        return {}

    b = StateGraph(S)
    b.add_node("stuck", stuck, executor="process", timeout=1)
    b.add_edge(START, "stuck")
    graph = b.compile()
    graph._pools = pools
    with pytest.raises(NodeTimeoutError):
        graph.invoke({})
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while pid in pools.process.worker_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid not in pools.process.worker_pids()

    ok = StateGraph(S)
    ok.add_node("n", lambda s: {"x": 5}, executor="process")
    ok.add_edge(START, "n")
    after = ok.compile()
    after._pools = pools
    assert after.invoke({}) == {"x": 5, "log": []}


def test_hung_async_node_is_cancelled() -> None:
    cancelled = []

    async def stuck(state: S) -> dict:
        try:
            await asyncio.sleep(600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return {}

    b = StateGraph(S)
    b.add_node("stuck", stuck, timeout=0.2)
    b.add_edge(START, "stuck")
    with pytest.raises(NodeTimeoutError):
        asyncio.run(b.compile().ainvoke({}))
    assert cancelled == [True]


def test_timeout_is_retried_per_policy(tmp_path) -> None:
    b = StateGraph(S)
    b.add_node(
        "slow_once",
        crash_first(lambda s: {"x": 1}, tmp_path / "m", how="hang"),
        timeout=0.3,
        retry_policy=FAST_RETRY,
    )
    b.add_edge(START, "slow_once")
    assert b.compile().invoke({})["x"] == 1


def test_graph_default_timeout_and_retry() -> None:
    attempts = []

    def flaky(state: S) -> dict:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("first")
        return {"x": len(attempts)}

    b = StateGraph(S)
    b.add_node("n", flaky)
    b.add_edge(START, "n")
    assert b.compile(retry_policy=FAST_RETRY, timeout=5).invoke({})["x"] == 2


def test_error_carries_node_attempt_and_run() -> None:
    def bad(state: S) -> dict:
        raise KeyError("missing")

    b = StateGraph(S)
    b.add_node("bad", bad)
    b.add_edge(START, "bad")
    with pytest.raises(KeyError) as info:
        b.compile().invoke({}, {"run_id": "run-42"})
    notes = getattr(info.value, "__notes__", [])
    assert any("'bad'" in n and "attempt 1" in n and "run-42" in n for n in notes)


def test_many_runs_with_random_crashes_match_a_clean_run(pools, tmp_path) -> None:
    pids = tmp_path / "pids"

    def source(state: S) -> dict:
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        return {"x": state["x"] * 2}

    def build(rate: float):
        b = StateGraph(S)
        b.add_node("src", crash_sometimes(source, rate), executor="process")
        b.add_edge(START, "src")
        for i in range(3):
            b.add_node(
                f"w{i}",
                crash_sometimes(lambda s, i=i: {"log": [s["x"] + i]}, rate),
                executor="process",
            )
            b.add_edge("src", f"w{i}")
            b.add_edge(f"w{i}", END)
        graph = b.compile(retry_policy=FAST_RETRY)
        graph._pools = pools
        return graph

    inputs = [{"x": i} for i in range(200)]
    clean = build(0.0).batch(inputs, {"max_concurrency": 4})
    faulty = build(0.05).batch(inputs, {"max_concurrency": 4})
    assert faulty == clean
    # crashes really happened: dead workers were replaced by new processes
    assert len(set(pids.read_text().split())) > 2
