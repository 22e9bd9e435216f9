"""A bounded pool stays bounded whatever fails: failing, timed-out and cancelled work
never lets more than ``max_workers`` node bodies run, and the counters stay exact."""

from __future__ import annotations

import asyncio
import operator
import random
import threading
import time
from typing import Annotated, TypedDict

import pytest
from polling import wait_until

from graphpool import START, NodeTimeoutError, RetryPolicy, StateGraph, ThreadPool
from graphpool.testing import crash_sometimes

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


KINDS = ("ok", "fail", "timeout", "raise", "crash", "cancel")


def fault_graphs(pool: ThreadPool, gauge: Gauge) -> dict[str, object]:
    """One graph per way a run can go wrong, all on ``pool``, every body counted."""

    def sleeper(name: str, seconds: float):
        def body(state: S) -> S:
            with gauge:
                time.sleep(seconds)
            return {"log": [name]}

        return body

    def raiser(error: type[BaseException], after: float):
        def body(state: S) -> S:
            with gauge:
                time.sleep(after)
            raise error("injected")

        return body

    flaky = crash_sometimes(sleeper("flaky", 0.002), rate=0.5, how="raise")
    retry = RetryPolicy(max_attempts=3, initial_interval=0.001, jitter=False)
    shapes: dict[str, list[tuple[str, object, dict]]] = {
        "ok": [("a", sleeper("a", 0.002), {}), ("b", sleeper("b", 0.003), {})],
        "fail": [  # one branch fails while its siblings still run
            ("a", sleeper("a", 0.01), {}),
            ("b", sleeper("b", 0.01), {}),
            ("bad", raiser(ValueError, 0.001), {}),
        ],
        "timeout": [
            ("a", sleeper("a", 0.002), {}),
            ("slow", sleeper("slow", 0.05), {"timeout": 0.02}),
        ],
        "raise": [("a", sleeper("a", 0.002), {}), ("flaky", flaky, {"retry_policy": retry})],
        "crash": [  # a BaseException that is no Exception (sync callers only:
            # asyncio lets SystemExit escape its event loop by design)
            ("a", sleeper("a", 0.01), {}),
            ("exit", raiser(SystemExit, 0.001), {}),
        ],
        "cancel": [(f"w{i}", sleeper(f"w{i}", 0.005), {}) for i in range(6)],
    }
    graphs = {}
    for kind, nodes in shapes.items():
        builder = StateGraph(S)
        for name, fn, options in nodes:
            builder.add_node(name, fn, **options)
            builder.add_edge(START, name)
        builder.add_node("last", sleeper("last", 0.001))
        builder.add_edge([name for name, _, _ in nodes], "last")
        graphs[kind] = builder.compile(pool=pool)
    return graphs


EXPECTED: dict[str, tuple[type[BaseException], ...]] = {
    "ok": (),
    "fail": (ValueError,),
    "timeout": (NodeTimeoutError,),
    "raise": (ConnectionError,),  # when all three attempts failed
    "crash": (SystemExit,),
    "cancel": (asyncio.CancelledError,),
}


def test_a_thousand_faulty_runs_never_exceed_max_workers() -> None:
    # The "done when": failing, timing-out, cancelled and crashing runs
    # on one ThreadPool(4), sync and async callers at once; the node bodies
    # never run more than 4 at a time and the pool's counters end exact.
    pool = ThreadPool(max_workers=4)
    gauge = Gauge()
    graphs = fault_graphs(pool, gauge)
    outcomes: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    record_lock = threading.Lock()
    unexpected: list[str] = []

    def record(kind: str, error: BaseException | None) -> None:
        name = "ok" if error is None else type(error).__name__
        with record_lock:
            outcomes[kind][name] = outcomes[kind].get(name, 0) + 1
            if error is not None and not isinstance(error, EXPECTED[kind]):
                unexpected.append(f"{kind}: {error!r}")

    runs = [KINDS[i % len(KINDS)] for i in range(1000)]
    plain = [kind for kind in runs if kind not in ("cancel", "crash")]
    # half of the plain kinds under invoke, half under ainvoke
    sync_runs = plain[::2] + [kind for kind in runs if kind == "crash"]
    async_runs = plain[1::2] + [kind for kind in runs if kind == "cancel"]
    random.Random(7).shuffle(sync_runs)
    random.Random(8).shuffle(async_runs)

    def sync_client(mine: list[str]) -> None:
        for kind in mine:
            try:
                graphs[kind].invoke({})  # type: ignore[attr-defined]
            except BaseException as exc:
                record(kind, exc)
            else:
                record(kind, None)

    async def async_client(mine: list[str], seed: int) -> None:
        rng = random.Random(seed)
        for kind in mine:
            run = asyncio.ensure_future(graphs[kind].ainvoke({}))  # type: ignore[attr-defined]
            if kind == "cancel":
                await asyncio.sleep(rng.uniform(0, 0.01))
                run.cancel()
            try:
                await run
            except BaseException as exc:
                record(kind, exc)
            else:
                record(kind, None)

    async def async_clients() -> None:
        await asyncio.gather(*(async_client(async_runs[i::4], i) for i in range(4)))

    began = time.monotonic()
    sync_clients = [threading.Thread(target=sync_client, args=(sync_runs[i::4],)) for i in range(4)]
    try:
        for thread in sync_clients:
            thread.start()
        asyncio.run(async_clients())
        for thread in sync_clients:
            thread.join(60)
        assert wait_until(lambda: settled(pool), timeout=10)
        took = time.monotonic() - began
        stats = pool.stats()
        assert gauge.peak <= 4, f"{gauge.peak} node bodies ran at once on ThreadPool(4)"
        assert (stats.busy, stats.queued, stats.abandoned, stats.active_runs) == (0, 0, 0, 0)
        assert stats.workers <= 4
        assert unexpected == []
        assert sum(sum(counts.values()) for counts in outcomes.values()) == 1000
        for kind in ("fail", "timeout", "crash"):
            assert outcomes[kind].get("ok", 0) == 0, (kind, outcomes[kind])
        assert outcomes["cancel"].get("CancelledError", 0) > 0, outcomes["cancel"]
        assert took < 60, f"1,000 runs took {took:.1f} s"
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
