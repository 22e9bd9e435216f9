"""One pool shared by many graphs and runs: fairness, backpressure, scaling, stealing, metrics."""

from __future__ import annotations

import asyncio
import operator
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypedDict

import pytest

from graphpool import (
    START,
    AsyncPool,
    GraphpoolError,
    NodeTimeoutError,
    PoolSaturatedError,
    RetryPolicy,
    StateGraph,
    ThreadPool,
    serve_metrics,
)
from graphpool.errors import InvalidPoolConfigError, PoolShutDownError


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def fan(width: int, node, pool=None, **compile_args):
    b = StateGraph(S)
    b.add_node("root", lambda s: {"x": s.get("x", 0)})
    b.add_edge(START, "root")
    for i in range(width):
        b.add_node(f"n{i}", lambda s, i=i: node(s, i))
        b.add_edge("root", f"n{i}")
    return b.compile(pool=pool, **compile_args)


@pytest.fixture
def shared():
    made: list[ThreadPool] = []

    def make(**kwargs) -> ThreadPool:
        made.append(ThreadPool(**kwargs))
        return made[-1]

    yield make
    for pool in made:
        pool.shutdown(wait=True, cancel=True)


def test_many_graphs_and_runs_share_one_pool(shared) -> None:
    pool = shared(max_workers=4)
    threads = set()

    def node(state: S, i: int) -> dict:
        threads.add(threading.current_thread().name)
        return {"log": [state["x"] + i]}

    g1, g2 = fan(3, node, pool), fan(2, node, pool)
    with ThreadPoolExecutor(8) as clients:
        results = list(clients.map(lambda x: (g1 if x % 2 else g2).invoke({"x": x}), range(40)))
    assert results[1] == {"x": 1, "log": [1, 2, 3]}
    assert results[2] == {"x": 2, "log": [2, 3]}
    assert all(name.startswith("graphpool-thread") for name in threads) and len(threads) <= 4
    stats = pool.stats()
    assert stats.finished == stats.started == 20 * (1 + 3) + 20 * (1 + 2)  # root + fan-out
    assert stats.run_latency.count == 40 and stats.active_runs == 0


def test_small_run_is_not_starved_by_a_wide_fan_out(shared) -> None:
    pool = shared(max_workers=4)
    started = 0
    lock = threading.Lock()
    seen_at_small_start: list[int] = []
    big_going = threading.Event()

    def big(state: S, i: int) -> dict:
        nonlocal started
        with lock:
            started += 1
            if started == 8:
                big_going.set()
        time.sleep(0.005)
        return {}

    wide = fan(1000, big, pool)
    with ThreadPoolExecutor(1) as background:
        running = background.submit(wide.invoke, {})
        assert big_going.wait(20)
        with lock:
            at_submit = started
        small = fan(1, lambda s, i: seen_at_small_start.append(started) or {"log": ["small"]}, pool)
        assert small.invoke({})["log"] == ["small"]
        running.result(60)
    # Round-robin lanes: the small run's task started after only a few more of
    # the big run's tasks (FIFO would put it behind ~990 of them).
    assert seen_at_small_start[0] - at_submit <= 4 * 3


def test_flood_is_rejected_with_bounded_queue_and_admitted_runs_complete(shared) -> None:
    pool = shared(max_workers=4, queue_size=100)
    graph = fan(5, lambda s, i: {"log": [s["x"] * 10 + i]}, pool)
    outcomes: list[object] = []

    def client(start: int) -> None:
        for x in range(start, start + 1000):
            try:
                out = graph.invoke({"x": x}, {"admission_timeout": 0})
                assert out["log"] == [x * 10 + i for i in range(5)]
                outcomes.append("ok")
            except PoolSaturatedError:
                outcomes.append("rejected")

    with ThreadPoolExecutor(10) as clients:
        list(clients.map(client, range(0, 10_000, 1000)))
    stats = pool.stats()
    assert len(outcomes) == 10_000 and stats.rejected == outcomes.count("rejected")
    assert outcomes.count("ok") > 0 and stats.active_runs == 0 and stats.queued == 0
    # bounded: admission stops at 100 waiting tasks; each admitted run adds <= 5
    assert stats.peak_queued <= 100 + 10 * 5


def test_a_held_run_waits_for_room_then_runs(shared) -> None:
    pool = shared(max_workers=1, queue_size=1)
    gate = threading.Event()
    blocker = fan(3, lambda s, i: gate.wait(20) and {}, pool)
    quick = fan(1, lambda s, i: {"log": ["quick"]}, pool)
    with ThreadPoolExecutor(2) as clients:
        first = clients.submit(blocker.invoke, {})
        deadline = time.monotonic() + 10
        # one fan-out node runs and the others wait (the root alone in the queue
        # for a moment does not count: a worker takes it at once)
        while (pool.stats().busy, min(pool.stats().queued, 1)) != (1, 1):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with pytest.raises(PoolSaturatedError):
            quick.invoke({}, {"admission_timeout": 0})
        waiting = clients.submit(quick.invoke, {}, {"admission_timeout": 30})
        time.sleep(0.1)
        assert not waiting.done()  # held, not rejected
        gate.set()
        first.result(20)
        assert waiting.result(20)["log"] == ["quick"]


def test_pool_grows_under_load_and_shrinks_when_idle(shared) -> None:
    pool = shared(max_workers=6, min_workers=1, idle_timeout=0.2)
    assert pool.stats().workers == 1
    gate = threading.Event()
    futures = [pool.submit(gate.wait, 20) for _ in range(10)]
    deadline = time.monotonic() + 10
    while pool.stats().workers < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.stats().workers == 6
    gate.set()
    assert all(f.result(20) for f in futures)
    deadline = time.monotonic() + 10
    while pool.stats().workers > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool.stats().workers == 1


def test_skewed_load_never_waits_behind_the_long_task(shared) -> None:
    # Workers prefetch 8 tasks each; the long task only ends once every short
    # task is done, so a short task stuck behind it in a deque would deadlock.
    pool = shared(max_workers=4, prefetch=8)
    shorts_done = threading.Semaphore(0)

    def long_task() -> str:
        for _ in range(99):
            assert shorts_done.acquire(timeout=20), "a short task waited behind the long one"
        return "long"

    def short_task() -> str:
        time.sleep(0.002)
        shorts_done.release()
        return "short"

    futures = [pool.submit_in("run", long_task)]
    futures += [pool.submit_in("run", short_task) for _ in range(99)]
    assert [f.result(30) for f in futures].count("short") == 99
    assert pool.stats().stolen > 0


def test_failed_run_drops_its_queued_tasks(shared) -> None:
    pool = shared(max_workers=1)
    ran = []

    def node(state: S, i: int) -> dict:
        ran.append(i)
        if i == 0:
            raise RuntimeError("first fails")
        time.sleep(0.01)
        return {}

    graph = fan(100, node, pool)
    with pytest.raises(RuntimeError):
        graph.invoke({})
    time.sleep(0.2)
    assert len(ran) < 10
    assert pool.stats().queued == 0


def test_cancelling_the_callers_task_frees_the_pool(shared) -> None:
    pool = shared(max_workers=1)
    ran = []

    def node(state: S, i: int) -> dict:
        ran.append(i)
        time.sleep(0.02)
        return {}

    graph = fan(200, node, pool)

    async def main() -> None:
        task = asyncio.ensure_future(graph.ainvoke({}))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    time.sleep(0.1)
    assert len(ran) < 50
    assert pool.stats().queued == 0 and pool.stats().active_runs == 0


def test_metrics_count_failures_and_retries(shared) -> None:
    pool = shared(max_workers=2)
    attempts = []

    def flaky(state: S, i: int) -> dict:
        attempts.append(i)
        if attempts.count(i) == 1:
            raise ConnectionError("once")
        return {}

    b = StateGraph(S)
    b.add_node("n", lambda s: flaky(s, 0))
    b.add_edge(START, "n")
    graph = b.compile(pool=pool, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    graph.invoke({})
    stats = pool.stats()
    assert (stats.failed, stats.retried, stats.started, stats.finished) == (1, 1, 2, 2)
    assert stats.task_wait.count == 2 and stats.run_latency.count == 1


def test_config_pool_overrides_compile_pool(shared) -> None:
    a, b = shared(max_workers=2), shared(max_workers=2)
    graph = fan(2, lambda s, i: {}, a)
    graph.invoke({}, {"pool": b})
    assert b.stats().started == 3 and a.stats().started == 0  # root + 2


def test_shutdown_drains_or_cancels(shared) -> None:
    drained = ThreadPool(max_workers=1)
    futures = [drained.submit(time.sleep, 0.01) for _ in range(5)]
    drained.shutdown(wait=True)
    assert all(f.done() and not f.cancelled() for f in futures)

    with ThreadPool(max_workers=1) as cancelled:
        gate = threading.Event()
        cancelled.submit(gate.wait, 10)
        queued = [cancelled.submit(time.sleep, 0) for _ in range(5)]
        cancelled.shutdown(wait=False, cancel=True)
        gate.set()
    assert all(f.cancelled() for f in queued)


def test_prometheus_exporter_serves_pool_metrics(shared) -> None:
    pytest.importorskip("prometheus_client")
    pool = shared(max_workers=2)
    fan(3, lambda s, i: {}, pool).invoke({})
    server, port = serve_metrics(pool)
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    finally:
        server.shutdown()
    text = body.decode()
    assert 'graphpool_tasks_started_total{pool="default"} 4.0' in text
    assert "graphpool_run_latency_seconds_count" in text


def test_async_pool_caps_coroutines_and_serves_sync_and_async_callers() -> None:
    pool = AsyncPool(max_workers=5)
    try:
        in_flight = peak = 0
        five_in = asyncio.Event()  # lives on the pool's loop, where the nodes run

        def node_for(i: int):
            async def node(state: S) -> dict:
                nonlocal in_flight, peak
                in_flight += 1
                peak = max(peak, in_flight)
                if in_flight == 5:
                    five_in.set()
                await asyncio.wait_for(five_in.wait(), 20)  # the cap is reached
                await asyncio.sleep(0.01)
                in_flight -= 1
                return {"log": [i]}

            return node

        b = StateGraph(S)
        b.add_node("root", lambda s: {"x": 0})
        b.add_edge(START, "root")
        for i in range(20):
            b.add_node(f"n{i}", node_for(i))
            b.add_edge("root", f"n{i}")
        graph = b.compile(pool=pool)
        assert sorted(graph.invoke({})["log"]) == list(range(20))
        assert peak == 5
        assert sorted(asyncio.run(graph.ainvoke({}))["log"]) == list(range(20))
        stats = pool.stats()
        assert stats.kind == "async" and stats.finished == 40 and stats.run_latency.count == 2
    finally:
        pool.shutdown(cancel=True)


def test_async_pool_timeout_cancels_and_backpressure_rejects() -> None:
    pool = AsyncPool(max_workers=1, queue_size=1)
    try:
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
            b.compile(pool=pool).invoke({})
        deadline = time.monotonic() + 10
        while not cancelled and time.monotonic() < deadline:
            time.sleep(0.01)
        assert cancelled == [True]

        gate = threading.Event()

        async def waits(state: S) -> dict:
            await asyncio.get_running_loop().run_in_executor(None, gate.wait, 20)
            return {}

        slow = StateGraph(S)
        for name in ("a", "b"):  # one runs, one waits in the queue: the queue is full
            slow.add_node(name, waits)
            slow.add_edge(START, name)
        blocked = slow.compile(pool=pool)
        with ThreadPoolExecutor(1) as background:
            running = background.submit(blocked.invoke, {})
            deadline = time.monotonic() + 10
            while pool.stats().queued < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            with pytest.raises(PoolSaturatedError):
                b.compile(pool=pool).invoke({}, {"admission_timeout": 0})
            gate.set()
            running.result(20)
    finally:
        pool.shutdown(cancel=True)


@pytest.mark.parametrize("caller", ["invoke", "ainvoke"])
def test_shutting_the_pool_down_mid_run_fails_the_run_naming_the_node(caller: str) -> None:
    # Queued tasks are cancelled by shutdown(cancel=True); the run must end with a
    # clear error (ainvoke used to wait forever for them).
    pool = ThreadPool(max_workers=1)
    gate, first_running = threading.Event(), threading.Event()

    def node(state: S, i: int) -> dict:
        first_running.set()
        gate.wait(10)
        return {"log": [i]}

    graph = fan(3, node, pool)

    def stop_pool() -> None:
        assert first_running.wait(10)
        pool.shutdown(wait=False, cancel=True)
        gate.set()

    stopper = threading.Thread(target=stop_pool)
    stopper.start()
    try:
        with pytest.raises(RuntimeError, match=r"Node 'n\d' was cancelled .* shut down"):
            if caller == "invoke":
                graph.invoke({})
            else:
                asyncio.run(asyncio.wait_for(graph.ainvoke({}), 20))
    finally:
        gate.set()
        stopper.join(10)
        pool.shutdown(wait=True)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"max_workers": 0}, "max_workers=0"),
        ({"max_workers": "abc"}, "max_workers='abc'"),
        ({"max_workers": 2.5}, "max_workers=2.5"),
        ({"max_workers": True}, "max_workers=True"),
        ({"queue_size": 0}, "queue_size=0"),
        ({"queue_size": "10"}, "queue_size='10'"),
    ],
)
def test_async_pool_refuses_bad_parameters_naming_them(args: dict, named: str) -> None:
    threads_before = threading.active_count()
    with pytest.raises(InvalidPoolConfigError) as info:
        AsyncPool(**args)
    assert named in str(info.value) and "AsyncPool" in str(info.value)
    assert isinstance(info.value, GraphpoolError)
    assert threading.active_count() == threads_before  # no loop thread left behind


@pytest.mark.parametrize("kind", ["thread", "async"])
def test_every_pool_kind_refuses_work_after_shutdown_with_one_error(kind: str) -> None:
    pool = ThreadPool(2) if kind == "thread" else AsyncPool(2)
    pool.shutdown()

    async def coroutine() -> None:
        pass

    work = (lambda: None) if kind == "thread" else coroutine
    for refused in (
        lambda: pool.submit(work),
        lambda: pool.submit_in("run", work),
        lambda: pool.admit("run"),
    ):
        with pytest.raises(PoolShutDownError, match="shut down"):
            refused()
    graph = fan(1, lambda s, i: {"log": [i]}, pool=pool)
    with pytest.raises(PoolShutDownError):
        graph.invoke({})
