"""A bounded pool stays bounded whatever fails: failing, timed-out and cancelled work
never lets more than ``max_workers`` node bodies run, and the counters stay exact."""

from __future__ import annotations

import operator
import threading
import time
from typing import Annotated, TypedDict

import pytest

from graphpool import START, StateGraph, ThreadPool

pytestmark = pytest.mark.timeout(60)


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]


class Gauge:
    """Counts node bodies running at once, and the most ever seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = self.entered = 0

    def __enter__(self) -> Gauge:
        with self.lock:
            self.now += 1
            self.entered += 1
            self.peak = max(self.peak, self.now)
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def settled(pool: ThreadPool) -> bool:
    stats = pool.stats()
    return stats.busy == 0 and stats.queued == 0 and stats.abandoned == 0


def test_an_abandoned_running_task_keeps_its_slot_until_it_returns() -> None:
    pool = ThreadPool(max_workers=1)
    gate, ran = threading.Event(), threading.Event()
    try:
        stuck = pool.submit(gate.wait, 30)
        assert wait_until(lambda: stuck.running())
        pool.abandon(stuck)
        later = pool.submit(ran.set)
        time.sleep(0.2)
        assert not ran.is_set(), "a replacement thread ran work beyond max_workers=1"
        stats = pool.stats()
        assert (stats.workers, stats.busy, stats.abandoned) == (1, 1, 1)
        gate.set()
        later.result(10)  # the abandoned thread went back to work
        assert wait_until(lambda: settled(pool))
        assert pool.stats().workers == 1
    finally:
        gate.set()
        pool.shutdown(wait=True, cancel_futures=True)


def test_a_cancelled_waiting_task_leaves_the_queue_and_never_runs() -> None:
    pool = ThreadPool(max_workers=1)
    gate, ran = threading.Event(), threading.Event()
    try:
        blocker = pool.submit(gate.wait, 30)
        assert wait_until(lambda: blocker.running())
        waiting = pool.submit(ran.set)
        assert pool.stats().queued == 1
        assert waiting.cancel()
        assert pool.stats().queued == 0
        gate.set()
        blocker.result(10)
        assert pool.submit(lambda: "after").result(10) == "after"
        assert not ran.is_set()
    finally:
        gate.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _prefetched(pool: ThreadPool, lane: object) -> tuple[threading.Event, list, list[str]]:
    """Leave the pool's one worker running a blocked task with two tasks of ``lane``
    prefetched in its deque."""
    first, second = threading.Event(), threading.Event()
    ran: list[str] = []
    pool.submit(first.wait, 30)
    assert wait_until(lambda: pool.stats().busy == 1)
    pool.submit(second.wait, 30)
    extras = [pool.submit_in(lane, ran.append, name) for name in ("c", "d")]
    first.set()  # the worker takes the second blocker and prefetches c and d
    assert wait_until(lambda: not pool._queue._lanes and any(pool._deques.values()))
    assert pool.stats().queued == 2
    return second, extras, ran


def test_a_cancelled_prefetched_task_never_runs() -> None:
    pool = ThreadPool(max_workers=1, prefetch=2)
    try:
        gate, (c, d), ran = _prefetched(pool, "run")
        assert c.cancel()
        assert pool.stats().queued == 1
        gate.set()
        d.result(10)
        assert ran == ["d"]
        assert wait_until(lambda: settled(pool))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_releasing_a_lane_drops_its_prefetched_tasks() -> None:
    pool = ThreadPool(max_workers=1, prefetch=2)
    try:
        pool.admit("run")
        gate, extras, ran = _prefetched(pool, "run")
        pool.release("run", 0.1)
        assert all(f.cancelled() for f in extras)
        assert pool.stats().queued == 0
        assert pool.stats().active_runs == 0
        gate.set()
        assert pool.submit(lambda: "after").result(10) == "after"
        assert ran == []
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_failing_runs_never_exceed_max_workers() -> None:
    # Each run's "boom" fails while its sibling still sleeps: the run gives up on
    # the sibling, whose thread must keep its slot until the sleep ends.
    pool = ThreadPool(max_workers=2)
    gauge = Gauge()

    def sleepy(state: S) -> S:
        with gauge:
            time.sleep(0.15)
        return {"log": ["slept"]}

    def boom(state: S) -> S:
        with gauge:
            time.sleep(0.01)
        raise ValueError("boom")

    builder = StateGraph(S)
    builder.add_node("sleepy", sleepy)
    builder.add_node("boom", boom)
    builder.add_edge(START, "sleepy")
    builder.add_edge(START, "boom")
    graph = builder.compile(pool=pool)
    try:
        for _ in range(6):
            with pytest.raises(ValueError, match="boom"):
                graph.invoke({})
            assert pool.stats().busy >= 0
        assert gauge.peak <= 2, f"{gauge.peak} node bodies ran at once on ThreadPool(2)"
        assert wait_until(lambda: settled(pool))
        stats = pool.stats()
        assert stats.busy == 0 and stats.workers <= 2
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
