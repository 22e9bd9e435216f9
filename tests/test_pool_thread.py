"""The dynamic thread pool: grows with queued work, shrinks when idle, shuts down cleanly."""

from __future__ import annotations

import threading
import time

import pytest
from polling import wait_until

from graphpool import ThreadPool
from graphpool.errors import (
    GraphpoolError,
    InternalError,
    InvalidPoolConfigError,
    PoolShutDownError,
)


def test_grows_to_demand_and_shrinks_when_idle() -> None:
    pool = ThreadPool(max_workers=4, idle_timeout=0.1)
    try:
        gate = threading.Event()
        futures = [pool.submit(gate.wait, 10) for _ in range(6)]
        assert wait_until(lambda: pool.statistics()[0] == 4)  # capped at max_workers
        gate.set()
        assert all(f.result(10) for f in futures)
        assert wait_until(lambda: pool.statistics() == (0, 0))
        assert pool.submit(lambda: 7).result(10) == 7  # and grows again
    finally:
        pool.shutdown()


def test_min_workers_stay() -> None:
    pool = ThreadPool(max_workers=3, min_workers=1, idle_timeout=0.05)
    try:
        for f in [pool.submit(time.sleep, 0.05) for _ in range(3)]:
            f.result(10)
        assert wait_until(lambda: pool.statistics()[0] == 1)
        time.sleep(0.2)
        assert pool.statistics()[0] == 1
    finally:
        pool.shutdown()


def test_shutdown_cancels_queued_work_and_refuses_more() -> None:
    pool = ThreadPool(max_workers=1)
    gate, started = threading.Event(), threading.Event()
    running = pool.submit(lambda: started.set() or gate.wait(10))
    assert started.wait(10)
    queued = pool.submit(lambda: "never")
    pool.shutdown(wait=False, cancel_futures=True)
    gate.set()
    assert running.result(10) is True
    assert queued.cancelled()
    with pytest.raises(PoolShutDownError, match="shut down"):
        pool.submit(lambda: None)
    with pytest.raises(PoolShutDownError, match="shut down"):
        pool.submit_in("run", lambda: None)
    with pytest.raises(PoolShutDownError, match="shut down"):
        pool.admit("run")
    assert issubclass(PoolShutDownError, RuntimeError)


def test_exception_goes_to_the_future_and_the_worker_survives() -> None:
    with ThreadPool(max_workers=1) as pool:
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result(10)
        assert pool.submit(lambda: 2).result(10) == 2


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"max_workers": 0}, "max_workers=0"),
        ({"max_workers": "abc"}, "max_workers='abc'"),
        ({"max_workers": 2.5}, "max_workers=2.5"),
        ({"max_workers": True}, "max_workers=True"),
        ({"max_workers": None}, "max_workers=None"),
        ({"max_workers": 2, "min_workers": 3}, "min_workers=3"),
        ({"min_workers": -1}, "min_workers=-1"),
        ({"min_workers": 1.0}, "min_workers=1.0"),
        ({"idle_timeout": -1}, "idle_timeout=-1"),
        ({"idle_timeout": float("nan")}, "idle_timeout=nan"),
        ({"idle_timeout": float("inf")}, "idle_timeout=inf"),
        ({"idle_timeout": "30"}, "idle_timeout='30'"),
        ({"queue_size": 0}, "queue_size=0"),
        ({"queue_size": 1.5}, "queue_size=1.5"),
        ({"queue_size": False}, "queue_size=False"),
        ({"prefetch": -1}, "prefetch=-1"),
        ({"prefetch": "2"}, "prefetch='2'"),
    ],
)
def test_bad_parameters_are_refused_naming_them(args: dict, named: str) -> None:
    with pytest.raises(InvalidPoolConfigError) as info:
        ThreadPool(**args)
    assert named in str(info.value) and "ThreadPool" in str(info.value)
    # existing `except ValueError` / `except TypeError` keep working
    assert isinstance(info.value, GraphpoolError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_good_edge_values_are_accepted() -> None:
    pool = ThreadPool(1, min_workers=0, idle_timeout=0, queue_size=None, prefetch=0)
    try:
        assert pool.submit(lambda: 3).result(10) == 3
    finally:
        pool.shutdown()


def test_shutdown_stops_every_thread_though_idle_timeout_is_long() -> None:
    # Idle threads wait on a condition for up to idle_timeout; shutdown must wake
    # them, and a thread busy at shutdown must exit when its task ends, with no
    # new thread started in between.
    pool = ThreadPool(max_workers=4, idle_timeout=60)
    gate = threading.Event()
    busy = pool.submit(gate.wait, 10)
    idle_ones = [pool.submit(lambda: "quick") for _ in range(3)]
    assert [f.result(10) for f in idle_ones] == ["quick"] * 3
    threads = list(pool._threads)
    pool.shutdown(wait=False)
    gate.set()
    assert busy.result(10) is True
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), f"{thread.name} stayed alive after shutdown"
    assert pool.statistics() == (0, 0)


def test_light_steady_load_lets_the_surplus_threads_retire() -> None:
    # The most recently idle thread takes the next task (its stack is warm), so
    # threads the load does not need stay idle long enough to time out. Woken in
    # turn instead, all 8 threads would be used every 8 x 25 ms < idle_timeout.
    pool = ThreadPool(max_workers=8, idle_timeout=0.5)
    try:
        gate = threading.Event()
        started = [pool.submit(gate.wait, 10) for _ in range(8)]
        assert wait_until(lambda: pool.statistics()[0] == 8)
        gate.set()
        for future in started:
            future.result(10)
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            pool.submit(time.sleep, 0.002).result(10)
            time.sleep(0.02)
        assert pool.statistics()[0] <= 3
    finally:
        pool.shutdown()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("warm", [True, False])
def test_a_burst_reaches_every_parked_thread(warm: bool) -> None:
    # One thread wakes at a time and wakes the next when it finds more work, so
    # tasks that can only finish together (a barrier of all of them) still each
    # get a thread, whether the threads are parked (warm) or must start.
    width = 6
    pool = ThreadPool(max_workers=width, min_workers=width if warm else 0)
    try:
        if warm:
            assert wait_until(lambda: pool.statistics() == (width, width))
        barrier = threading.Barrier(width, timeout=20)
        futures = [pool.submit(barrier.wait) for _ in range(width)]
        assert sorted(f.result(25) for f in futures) == list(range(width))
        assert pool.statistics()[0] == width
    finally:
        pool.shutdown()


def test_reclaim_runs_a_waiting_call_in_the_caller_and_nothing_else() -> None:
    pool = ThreadPool(max_workers=1)
    try:
        gate, started = threading.Event(), threading.Event()
        busy = pool.submit(lambda: started.set() or gate.wait(10))
        assert started.wait(10)
        queued = pool.submit(lambda: threading.current_thread())
        assert pool.stats().queued == 1
        assert pool.reclaim(queued) is True  # ran here, though the only worker is busy
        assert queued.result(0) is threading.current_thread()
        assert pool.stats().queued == 0
        assert pool.reclaim(busy) is False  # running already: not twice
        assert pool.reclaim(queued) is False  # done
        gate.set()
        assert busy.result(10) is True
        other = ThreadPool(max_workers=1)
        try:
            assert other.reclaim(pool.submit(lambda: 1)) is False  # not its own
        finally:
            other.shutdown()
    finally:
        pool.shutdown()


def test_nested_waits_that_reclaim_finish_on_a_one_worker_pool() -> None:
    pool = ThreadPool(max_workers=1)

    def fan(depth: int) -> int:
        if depth == 0:
            return 1
        children = [pool.submit(fan, depth - 1) for _ in range(2)]
        for child in children:
            pool.reclaim(child)  # else this worker would wait for itself
        return sum(child.result(10) for child in children)

    try:
        assert pool.submit(fan, 3).result(10) == 8
        assert pool.stats().workers <= 1
    finally:
        pool.shutdown()


def test_queue_call_reports_each_end_once_and_survives_a_failing_callback(caplog) -> None:
    """``queue_call``'s light futures: ``on_end`` once per call, whether it ran,
    raised, was cancelled while queued, or was dropped with its run; a callback
    that raises is logged and the worker goes on."""
    pool = ThreadPool(max_workers=1)
    ends: list[tuple[str, str]] = []
    gate = threading.Event()

    def record(name: str):
        def on_end(call) -> None:
            state = "cancelled" if call.cancelled() else repr(call.exception())
            ends.append((name, state))
            if name == "bad-callback":
                raise ValueError("from on_end")

        return on_end

    def boom() -> None:
        raise KeyError("x")

    try:
        blocker = pool.queue_call("run", gate.wait, (), record("blocker"))
        assert not blocker.done()
        failing = pool.queue_call("run", boom, (), record("failing"))
        cancelled = pool.queue_call("run", print, (), record("cancelled"))
        assert cancelled.cancel() and cancelled.cancelled()
        assert cancelled.cancel()  # cancelling it again: still cancelled, no second end
        noisy = pool.queue_call("run", int, (), record("bad-callback"))
        pool.admit("other")
        dropped = pool.queue_call("other", print, (), record("dropped"))
        pool.release("other", 0.0)  # its run ended: what it had queued never runs
        gate.set()
        wait_until(lambda: blocker.done() and failing.done() and noisy.done(), timeout=10)
        assert failing.done() and isinstance(failing.exception(), KeyError)
        assert dropped.cancelled()
        assert sorted(ends) == sorted(
            [
                ("blocker", "None"),
                ("failing", "KeyError('x')"),
                ("cancelled", "cancelled"),
                ("bad-callback", "None"),
                ("dropped", "cancelled"),
            ]
        )
        assert "exception calling the end callback" in caplog.text
        assert pool.submit(int, "7").result(timeout=10) == 7  # the worker lived on
        with pytest.raises(InternalError):
            blocker.result()
    finally:
        gate.set()
        pool.shutdown(wait=True)
