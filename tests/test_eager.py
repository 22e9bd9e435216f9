"""Eager scheduling: tasks start when their own inputs are ready (compile(scheduling="eager"))."""

from __future__ import annotations

import asyncio
import operator
import threading
import time
from typing import Annotated, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphpool import (
    END,
    START,
    Command,
    GraphRecursionError,
    InvalidGraphError,
    InvalidUpdateError,
    RetryPolicy,
    Send,
    StateGraph,
)


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


def union(a: frozenset, b: frozenset) -> frozenset:
    return a | b


def test_fast_branch_does_not_wait_for_a_slow_sibling() -> None:
    # The slow branch can only finish once the fast branch's *third* node started,
    # which in eager mode happens only after fast2 committed; in superstep mode
    # those nodes wait for the slow one's step to end. (Releasing slow from fast2
    # itself raced: both then finished at about the same time.)
    third_started = threading.Event()

    def slow(state: S) -> dict:
        assert third_started.wait(10), "fast branch was held back"
        return {"log": ["slow"]}

    def build(mode: str):
        b = StateGraph(S)
        b.add_node("slow", slow)
        b.add_node("fast1", lambda s: {"log": ["fast1"]})
        b.add_node("fast2", lambda s: {"log": ["fast2"]})
        b.add_node("fast3", lambda s: third_started.set() or {"log": ["fast3"]})
        b.add_edge(START, "slow")
        b.add_edge(START, "fast1")
        b.add_edge("fast1", "fast2")
        b.add_edge("fast2", "fast3")
        return b.compile(scheduling=mode)

    log = build("eager").invoke({})["log"]
    assert log[:2] == ["fast1", "fast2"]
    assert sorted(log[2:]) == ["fast3", "slow"]


def test_join_waits_for_every_source_and_separate_edges_fire_per_arrival() -> None:
    b = StateGraph(S)
    for name in ("a", "a2", "b", "joined", "each"):
        b.add_node(name, lambda s, name=name: {"log": [name]})
    b.add_edge(START, "a")
    b.add_edge("a", "a2")
    b.add_edge(START, "b")
    b.add_edge(["a2", "b"], "joined")
    b.add_edge("a2", "each")
    b.add_edge("b", "each")
    log = b.compile(scheduling="eager").invoke({})["log"]
    assert log.count("joined") == 1
    assert log.count("each") == 2
    assert log.index("joined") > max(log.index("a2"), log.index("b"))


def test_task_reads_state_committed_when_it_starts() -> None:
    b = StateGraph(S)
    b.add_node("first", lambda s: {"x": 1})
    b.add_node("second", lambda s: {"log": [s["x"]]})
    b.add_edge(START, "first")
    b.add_edge("first", "second")
    assert b.compile(scheduling="eager").invoke({"x": 0})["log"] == [1]


def test_overlapping_writes_to_a_key_without_reducer_fail() -> None:
    both_in = threading.Barrier(2, timeout=10)

    def writer(value: int):
        def run(state: S) -> dict:
            both_in.wait()  # the two tasks overlap for sure
            return {"x": value}

        return run

    b = StateGraph(S)
    b.add_node("p", writer(1))
    b.add_node("q", writer(2))
    b.add_edge(START, "p")
    b.add_edge(START, "q")
    with pytest.raises(InvalidUpdateError, match="'x'"):
        b.compile(scheduling="eager").invoke({})


def test_sequential_writes_to_a_key_without_reducer_are_fine() -> None:
    b = StateGraph(S)
    b.add_node("p", lambda s: {"x": 1})
    b.add_node("q", lambda s: {"x": s["x"] + 1})
    b.add_edge(START, "p")
    b.add_edge("p", "q")
    assert b.compile(scheduling="eager").invoke({})["x"] == 2


def test_recursion_limit_counts_depth() -> None:
    b = StateGraph(S)
    b.add_node("loop", lambda s: {"x": s.get("x", 0) + 1})
    b.add_edge(START, "loop")
    b.add_conditional_edges("loop", lambda s: "loop" if s["x"] < 100 else END)
    graph = b.compile(scheduling="eager")
    assert graph.invoke({}, {"recursion_limit": 101})["x"] == 100
    with pytest.raises(GraphRecursionError):
        graph.invoke({}, {"recursion_limit": 100})


def test_send_command_and_retry_in_eager_mode() -> None:
    attempts = []

    def flaky(state: dict) -> dict:
        attempts.append(state["i"])
        if attempts.count(state["i"]) == 1 and state["i"] == 2:
            raise ConnectionError("once")
        return {"log": [state["i"]]}

    b = StateGraph(S)
    b.add_node("route", lambda s: Command(goto=[Send("work", {"i": i}) for i in range(4)]))
    b.add_node("work", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    b.add_edge(START, "route")
    log = b.compile(scheduling="eager").invoke({})["log"]
    assert sorted(log) == [0, 1, 2, 3]
    assert attempts.count(2) == 2


def test_eager_under_ainvoke() -> None:
    async def node(state: S) -> dict:
        await asyncio.sleep(0.01)
        return {"log": ["async"]}

    b = StateGraph(S)
    b.add_node("a", node)
    b.add_node("b", lambda s: {"log": ["sync"]})
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    result = asyncio.run(b.compile(scheduling="eager").ainvoke({}))
    assert sorted(result["log"]) == ["async", "sync"]


def test_unknown_scheduling_is_rejected() -> None:
    b = StateGraph(S)
    b.add_node("a", lambda s: None)
    b.add_edge(START, "a")
    with pytest.raises(InvalidGraphError, match="scheduling"):
        b.compile(scheduling="greedy")


# -- property: same final state as superstep mode ---------------------------------


@st.composite
def dags(draw):
    """A random DAG: node i may depend on earlier nodes; several parents join."""
    n = draw(st.integers(2, 7))
    parents = [
        sorted(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else [] for i in range(n)
    ]
    delays = [draw(st.sampled_from([0, 0.001, 0.005, 0.02])) for _ in range(n)]
    return parents, delays


def build_dag(parents, delays, mode):
    keys = {f"k{i}": int for i in range(len(parents))}
    State = TypedDict("State", {**keys, "seen": Annotated[frozenset, union]})

    def node(i: int):
        def run(state) -> dict:
            time.sleep(delays[i])
            # a disjoint key plus an order-insensitive reducer; what the node
            # saw of its parents must be complete in both modes
            missing = [p for p in parents[i] if f"k{p}" not in state]
            return {f"k{i}": i, "seen": frozenset({(i, len(missing))})}

        return run

    b = StateGraph(State)
    for i in range(len(parents)):
        b.add_node(f"n{i}", node(i))
        if not parents[i]:
            b.add_edge(START, f"n{i}")
        elif len(parents[i]) == 1:
            b.add_edge(f"n{parents[i][0]}", f"n{i}")
        else:
            b.add_edge([f"n{p}" for p in parents[i]], f"n{i}")
    return b.compile(scheduling=mode)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dags())
def test_final_state_equals_superstep_mode(dag) -> None:
    parents, delays = dag
    superstep = build_dag(parents, delays, "superstep").invoke({"seen": frozenset()})
    eager = build_dag(parents, delays, "eager").invoke({"seen": frozenset()})
    assert eager == superstep
    assert {i for i, _ in superstep["seen"]} == set(range(len(parents)))


@pytest.mark.parametrize("executor", ["thread", "process", "async"])
def test_eager_on_every_executor_with_a_timeout_retried(pools, executor: str, tmp_path) -> None:
    from graphpool.testing import crash_first

    def work(state: S) -> dict:
        return {"log": [state["x"]]}

    if executor == "async":

        async def node(state: S) -> dict:
            return work(state)

        async def first_hangs(state: S) -> dict:
            if not (tmp_path / "m").exists():
                (tmp_path / "m").touch()
                await asyncio.sleep(600)
            return {"log": ["retried"]}

    else:
        node = work
        first_hangs = crash_first(lambda s: {"log": ["retried"]}, tmp_path / "m", how="hang")
    b = StateGraph(S)
    b.add_node("a", node, executor=executor)
    b.add_node(
        "b",
        first_hangs,
        executor=executor,
        timeout=0.5,
        retry_policy=RetryPolicy(initial_interval=0.01, jitter=False),
    )
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    graph = b.compile(scheduling="eager")
    graph._pools = pools
    assert sorted(graph.invoke({"x": 1})["log"], key=str) == [1, "retried"]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_eager_checkpoints_every_commit_and_resumes_only_unfinished_tasks(kind, tmp_path) -> None:
    from graphpool.checkpoint import InMemorySaver
    from graphpool.checkpoint.sqlite import SqliteSaver

    saver = InMemorySaver() if kind == "memory" else SqliteSaver(str(tmp_path / "c.db"))
    runs: list[str] = []
    broken, fast2_ran = threading.Event(), threading.Event()
    broken.set()

    def node(name: str):
        def run(state: S) -> dict:
            runs.append(name)
            if name == "fast2":
                fast2_ran.set()
            if name == "flaky" and broken.is_set():
                assert fast2_ran.wait(10)
                time.sleep(0.2)  # let fast2's commit (and checkpoint) happen first
                raise RuntimeError("down")
            return {"log": [name]}

        return run

    b = StateGraph(S)
    for name in ("fast1", "fast2", "flaky", "end"):
        b.add_node(name, node(name))
    b.add_edge(START, "fast1")
    b.add_edge("fast1", "fast2")
    b.add_edge(START, "flaky")
    b.add_edge(["fast2", "flaky"], "end")
    graph = b.compile(checkpointer=saver, scheduling="eager")
    config = {"configurable": {"thread_id": "t1"}}

    with pytest.raises(RuntimeError, match="down"):
        graph.invoke({}, config)
    state = graph.get_state(config)
    assert sorted(state.values["log"]) == ["fast1", "fast2"]  # committed work was saved
    assert state.next == ("flaky",)

    broken.clear()
    runs.clear()
    assert sorted(graph.invoke(None, config)["log"]) == ["end", "fast1", "fast2", "flaky"]
    assert runs == ["flaky", "end"]  # finished tasks did not run again
    history = list(graph.get_state_history(config))
    assert len(history) >= 6  # the input, START, and one per committed task
