"""The dynamic thread pool: grows with queued work, shrinks when idle, shuts down cleanly."""

from __future__ import annotations

import threading
import time

import pytest

from graphpool import ThreadPool


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


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
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: None)


def test_exception_goes_to_the_future_and_the_worker_survives() -> None:
    with ThreadPool(max_workers=1) as pool:
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result(10)
        assert pool.submit(lambda: 2).result(10) == 2


@pytest.mark.parametrize("args", [{"max_workers": 0}, {"max_workers": 2, "min_workers": 3}])
def test_bad_sizes(args: dict) -> None:
    with pytest.raises(ValueError):
        ThreadPool(**args)


def test_shutdown_stops_every_thread_when_work_was_still_queued() -> None:
    # A thread dequeues a task just as shutdown() queues one stop per thread it
    # knows. Taking the task used to start a new thread (more queued than idle),
    # which then took that thread's stop: the old thread lived on, idle, and
    # shutdown(wait=True) waited for it (up to idle_timeout).
    pool = ThreadPool(max_workers=4, idle_timeout=60)
    gate = threading.Event()
    real_queue = pool._queue

    def marker() -> str:
        return "ran"

    class GatedQueue:
        def put(self, item: object) -> None:
            real_queue.put(item)

        def qsize(self) -> int:
            return real_queue.qsize()

        def empty(self) -> bool:
            return real_queue.empty()

        def get(self, timeout: float | None = None) -> object:
            item = real_queue.get(timeout=timeout)
            if isinstance(item, tuple) and item[1] is marker:
                assert gate.wait(10)  # hold the task until shutdown() has run
            return item

        def get_nowait(self) -> object:
            return real_queue.get_nowait()

    pool._queue = GatedQueue()  # type: ignore[assignment]
    future = pool.submit(marker)
    [worker] = list(pool._threads)
    pool.shutdown(wait=False)
    gate.set()
    assert future.result(timeout=10) == "ran"
    worker.join(timeout=10)
    assert not worker.is_alive(), "a worker missed its stop and stayed alive"
    for thread in list(pool._threads):
        thread.join(timeout=10)
        assert not thread.is_alive()
