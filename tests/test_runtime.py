"""Run behaviour beyond LangGraph conformance: real parallelism, limits, retries, streams."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, TypedDict

import pytest

from graphpool import (
    END,
    START,
    GraphRecursionError,
    InvalidUpdateError,
    RetryPolicy,
    StateGraph,
)
from graphpool._pool import Pools, default_process_pool


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def fan_out(n: int, node) -> StateGraph:
    b = StateGraph(S)
    b.add_node("root", lambda s: {"x": 0})
    b.add_edge(START, "root")
    for i in range(n):
        b.add_node(f"w{i}", node(i))
        b.add_edge("root", f"w{i}")
        b.add_edge(f"w{i}", END)
    return b


def test_parallel_branches_run_at_the_same_time(pool) -> None:
    # Each branch waits at a barrier that only opens when all three are inside:
    # run one after another, the first would time out and break it.
    barrier = threading.Barrier(3, timeout=10)

    def node(i: int):
        def run(state: S) -> dict:
            barrier.wait()
            return {"log": [i]}

        return run

    graph = fan_out(3, node).compile()
    graph._pools = Pools(pool, default_process_pool)
    assert graph.invoke({}, {"max_workers": 3})["log"] == [0, 1, 2]


def test_async_branches_run_at_the_same_time() -> None:
    async def main() -> dict:
        arrived = 0
        all_in = asyncio.Event()

        def node(i: int):
            async def run(state: S) -> dict:
                nonlocal arrived
                arrived += 1
                if arrived == 3:
                    all_in.set()
                await asyncio.wait_for(all_in.wait(), 10)
                return {"log": [i]}

            return run

        return await fan_out(3, node).compile().ainvoke({})

    assert asyncio.run(main())["log"] == [0, 1, 2]


def test_max_workers_caps_concurrency(pool) -> None:
    lock = threading.Lock()
    running = peak = 0
    two_in = threading.Barrier(2, timeout=10)

    def node(i: int):
        def run(state: S) -> dict:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            if i < 2:
                two_in.wait()  # the cap is reached, not only respected
            with lock:
                running -= 1
            return {"log": [i]}

        return run

    graph = fan_out(6, node).compile()
    graph._pools = Pools(pool, default_process_pool)
    assert graph.invoke({}, {"max_workers": 2})["log"] == list(range(6))
    assert peak == 2


def test_async_node_in_sync_invoke() -> None:
    async def node(state: S) -> dict:
        await asyncio.sleep(0)
        return {"x": 42}

    b = StateGraph(S)
    b.add_node("a", node)
    b.add_edge(START, "a")
    assert b.compile().invoke({}) == {"x": 42, "log": []}


def test_retry_policy_retries_then_succeeds() -> None:
    attempts = []

    def flaky(state: S) -> dict:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("transient")
        return {"x": len(attempts)}

    b = StateGraph(S)
    b.add_node("a", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    b.add_edge(START, "a")
    assert b.compile().invoke({})["x"] == 3


def test_retry_gives_up_with_the_nodes_own_error() -> None:
    def broken(state: S) -> dict:
        raise ConnectionError("down")

    b = StateGraph(S)
    b.add_node("a", broken, retry=RetryPolicy(max_attempts=2, initial_interval=0.01))
    b.add_edge(START, "a")
    with pytest.raises(ConnectionError, match="down"):
        b.compile().invoke({})


def test_default_retry_on_skips_programming_errors() -> None:
    calls = []

    def bug(state: S) -> dict:
        calls.append(1)
        raise ValueError("bug")

    b = StateGraph(S)
    b.add_node("a", bug, retry_policy=RetryPolicy(initial_interval=0.01))
    b.add_edge(START, "a")
    with pytest.raises(ValueError):
        b.compile().invoke({})
    assert len(calls) == 1


def test_route_to_unknown_node_is_an_error_naming_it() -> None:
    # LangGraph only logs a warning here; graphpool stops the run.
    b = StateGraph(S)
    b.add_node("a", lambda s: {"x": 1})
    b.add_edge(START, "a")
    b.add_conditional_edges("a", lambda s: "nowhere")
    with pytest.raises(InvalidUpdateError, match="'nowhere'"):
        b.compile().invoke({})


def test_exception_in_parallel_branch_keeps_type_and_traceback() -> None:
    class Boom(Exception):
        pass

    def node(i: int):
        def run(state: S) -> dict:
            if i == 1:
                raise Boom(f"branch {i}")
            return {"log": [i]}

        return run

    with pytest.raises(Boom, match="branch 1") as info:
        fan_out(3, node).compile().invoke({})
    assert any(entry.name == "run" for entry in info.traceback)


def test_recursion_error_is_a_recursion_error() -> None:
    b = StateGraph(S)
    b.add_node("loop", lambda s: {"x": s.get("x", 0) + 1})
    b.add_edge(START, "loop")
    b.add_edge("loop", "loop")
    with pytest.raises(RecursionError):
        b.compile().invoke({}, {"recursion_limit": 5})
    assert issubclass(GraphRecursionError, RecursionError)


def test_stream_tasks_and_debug_modes() -> None:
    b = StateGraph(S)
    b.add_node("a", lambda s: {"x": 1})
    b.add_edge(START, "a")
    graph = b.compile()
    events = list(graph.stream({}, stream_mode="tasks"))
    assert [sorted(e) for e in events] == [
        ["id", "input", "name", "triggers"],
        ["error", "id", "interrupts", "name", "result"],
    ]
    assert events[0]["id"] == events[1]["id"] and events[1]["result"] == {"x": 1}
    debug = list(graph.stream({}, stream_mode="debug"))
    assert [(d["step"], d["type"]) for d in debug] == [(1, "task"), (1, "task_result")]


def test_stopping_a_stream_early_runs_no_more_steps() -> None:
    ran = []
    b = StateGraph(S)
    b.add_node("a", lambda s: ran.append("a") or {"x": 1})
    b.add_node("b", lambda s: ran.append("b") or {"x": 2})
    b.add_edge(START, "a")
    b.add_edge("a", "b")
    stream = b.compile().stream({}, stream_mode="updates")
    assert next(stream) == {"a": {"x": 1}}
    stream.close()
    assert ran == ["a"]


@pytest.mark.parametrize(
    "config", [{"recursion_limit": 0}, {"max_workers": 0}, {"max_concurrency": "3"}]
)
def test_bad_config_is_rejected(config: dict) -> None:
    b = StateGraph(S)
    b.add_node("a", lambda s: None)
    b.add_edge(START, "a")
    with pytest.raises(ValueError):
        b.compile().invoke({}, config)
