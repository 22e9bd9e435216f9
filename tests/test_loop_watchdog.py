"""The shared background loop's watchdog: one blocking ``async def`` node must not stall
the async nodes of every other sync run."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TypedDict
from unittest.mock import patch

import pytest
from polling import wait_until as wait_for

from graphpool import START, StateGraph
from graphpool._pool import _loop
from graphpool.errors import InvalidConfigError

pytestmark = pytest.mark.timeout(60)


class S(TypedDict, total=False):
    x: int


def blocking_graph(started: threading.Event, seconds: float):
    async def hog(state: S) -> S:
        started.set()
        time.sleep(seconds)  # the mistake under test: blocking inside async def
        return {"x": 1}

    builder = StateGraph(S)
    builder.add_node("hog", hog)
    builder.add_edge(START, "hog")
    return builder.compile()


def quick_graph():
    async def quick(state: S) -> S:
        await asyncio.sleep(0.05)
        return {"x": 2}

    builder = StateGraph(S)
    builder.add_node("quick", quick)
    builder.add_edge(START, "quick")
    return builder.compile()


def in_thread(fn) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def watchdog_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    messages = [
        r.getMessage()
        for r in caplog.records
        if r.name == "graphpool" and r.levelno == logging.WARNING
    ]
    return [m for m in messages if "has not answered" in m]


def test_a_blocking_async_node_does_not_stall_another_runs_async_node(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="graphpool")
    started = threading.Event()
    hog, hog_out = in_thread(lambda: blocking_graph(started, 3).invoke({}))
    assert started.wait(10)
    began = time.monotonic()
    assert quick_graph().invoke({}) == {"x": 2}
    took = time.monotonic() - began
    assert took < 2.0, f"an unrelated 50 ms async node took {took:.2f} s behind the blocked loop"
    assert watchdog_warnings(caplog)
    hog.join(10)
    assert hog_out == [{"x": 1}]  # the blocking node itself still finishes, on its old loop


def test_the_warning_names_the_blocking_node(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="graphpool")
    started = threading.Event()
    hog, _ = in_thread(lambda: blocking_graph(started, 1.5).invoke({}))
    assert started.wait(10)
    try:
        assert wait_for(lambda: watchdog_warnings(caplog))
        assert "'hog'" in watchdog_warnings(caplog)[0]
    finally:
        hog.join(10)


def test_the_warning_names_the_task_and_the_old_loop_finishes_its_work_then_retires(
    caplog,
) -> None:
    caplog.set_level(logging.INFO, logger="graphpool")
    release = threading.Event()
    holding: list[threading.Thread] = []

    async def patient() -> str:  # already running on the loop when it blocks
        await asyncio.sleep(0.2)
        return threading.current_thread().name

    async def hog() -> str:
        holding.append(threading.current_thread())
        release.wait(20)
        return threading.current_thread().name

    async def where() -> str:
        return threading.current_thread().name

    first = _loop.submit_coroutine(patient(), name="patient")
    blocked = _loop.submit_coroutine(hog(), name="my_node")
    try:
        old = wait_for(lambda: holding and holding[0])
        moved = _loop.submit_coroutine(where(), name="elsewhere").result(10)
        assert moved != old.name, "new work ran on the blocked loop"
        warnings = watchdog_warnings(caplog)
        assert warnings and "'my_node'" in warnings[0] and old.name in warnings[0]
        assert not first.done()  # stuck with its loop: a running coroutine cannot move
    finally:
        release.set()
    assert blocked.result(10) == old.name
    assert first.result(10) == old.name
    old.join(10)
    assert not old.is_alive(), "the blocked loop did not retire after it recovered"
    assert _loop.submit_coroutine(where()).result(10) == moved


def test_cancelling_the_future_cancels_the_task() -> None:
    stopped = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            stopped.set()
            raise

    future = _loop.submit_coroutine(forever(), name="forever")
    time.sleep(0.05)
    assert future.cancel()
    assert stopped.wait(10)


def test_the_watchdog_stays_out_of_a_patched_time_sleep() -> None:
    # Programs and tests patch time.sleep to count a retry's sleeps (LangGraph's do);
    # the watchdog, running from the loop's first use on, must not show up there. A
    # patched sleep that returned at once made it spin, its calls counted with the
    # retry's (tests/conformance/test_retry_backoff.py's jitter test failed so)
    assert _loop.submit_coroutine(asyncio.sleep(0)).result(10) is None  # loop, watchdog up
    assert any(t.name == "graphpool-loop-watchdog" for t in threading.enumerate())
    with patch("time.sleep") as sleep:
        threading.Event().wait(3 * _loop.blocked_threshold())  # several of its looks
    assert sleep.call_args_list == []


def test_a_healthy_loop_raises_no_warning(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="graphpool")

    async def small(i: int) -> int:
        await asyncio.sleep(0.001)
        return i

    futures = [_loop.submit_coroutine(small(i)) for i in range(300)]
    assert [f.result(10) for f in futures] == list(range(300))
    time.sleep(1.0)
    assert watchdog_warnings(caplog) == []


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", True, None])
def test_bad_threshold_is_refused(bad) -> None:
    with pytest.raises(InvalidConfigError, match="seconds"):
        _loop.set_blocked_threshold(bad)
    assert _loop.blocked_threshold() == _loop.DEFAULT_BLOCKED_THRESHOLD
