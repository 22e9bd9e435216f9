"""Execution traces: attempts recorded with worker and times; Chrome JSON; Gantt PNG."""

from __future__ import annotations

import asyncio
import json
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest

from graphpool import END, START, RetryPolicy, StateGraph, TaskAttempt, Trace
from graphpool._timeline import assign_lanes
from graphpool._trace import chrome_trace


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]


def fan_out(node: Any, width: int = 3) -> Any:
    """START -> n0..n{width-1} -> join -> END."""
    b = StateGraph(S)
    for i in range(width):
        b.add_node(f"n{i}", node)
        b.add_edge(START, f"n{i}")
        b.add_edge(f"n{i}", "join")
    b.add_node("join", lambda s: {"log": ["join"]})
    b.add_edge("join", END)
    return b.compile()


def overlapping(width: int) -> Any:
    """A node that returns only once ``width`` copies of it are running at once."""
    barrier = threading.Barrier(width, timeout=10)

    def node(state: S) -> dict:
        barrier.wait()
        return {"log": ["x"]}

    return node


def intervals(events: list[dict], name: str) -> list[tuple[float, float, int]]:
    return [
        (e["ts"], e["ts"] + e["dur"], e["tid"])
        for e in events
        if e["ph"] == "X" and e["name"] == name
    ]


def test_trace_path_in_config_writes_chrome_json_with_a_lane_per_worker(tmp_path) -> None:
    path = tmp_path / "t.json"
    graph = fan_out(overlapping(3))
    assert graph.invoke({}, config={"trace": str(path)})["log"] == ["x", "x", "x", "join"]
    data = json.loads(path.read_text())
    events = data["traceEvents"]
    lanes = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    spans = [intervals(events, f"n{i}")[0] for i in range(3)]
    assert len({tid for _, _, tid in spans}) == 3, "each branch on its own worker lane"
    assert max(s for s, _, _ in spans) < min(e for _, e, _ in spans), "all three overlap"
    for e in events:
        if e["ph"] == "X":
            assert set(e["args"]) >= {"run_id", "step", "attempt", "worker", "outcome"}
            assert lanes[e["tid"]] == e["args"]["worker"]
    assert [e["name"] for e in events if e["ph"] == "i"] == ["step 1", "step 2"]


def test_trace_object_records_every_attempt_with_its_outcome() -> None:
    calls = {"n": 0}

    def flaky(state: S) -> dict:
        calls["n"] += 1
        if calls["n"] < 3:
            raise ConnectionError(f"try {calls['n']}")
        return {"log": ["ok"]}

    b = StateGraph(S)
    b.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    b.add_edge(START, "flaky")
    trace = Trace()
    b.compile().invoke({}, config={"trace": trace, "run_id": "r1"})
    got = [(a.node, a.attempt, a.outcome, a.error) for a in trace.attempts]
    assert got == [
        ("flaky", 1, "retried", "ConnectionError('try 1')"),
        ("flaky", 2, "retried", "ConnectionError('try 2')"),
        ("flaky", 3, "succeeded", None),
    ]
    for a in trace.attempts:
        assert a.run_id == "r1" and a.step == 1 and a.worker
        assert 0 <= a.duration < 5
    first, second, _ = trace.attempts
    assert second.start >= first.end + 0.01  # the retry waited its interval


def test_failed_run_still_writes_its_trace(tmp_path) -> None:
    def boom(state: S) -> dict:
        raise KeyError("boom")

    b = StateGraph(S)
    b.add_node("boom", boom)
    b.add_edge(START, "boom")
    path = tmp_path / "t.json"
    with pytest.raises(KeyError):
        b.compile().invoke({}, config={"trace": path})
    (event,) = [e for e in json.loads(path.read_text())["traceEvents"] if e["ph"] == "X"]
    assert (event["name"], event["cat"], event["args"]["error"]) == (
        "boom",
        "failed",
        "KeyError('boom')",
    )


def test_async_nodes_overlapping_on_one_loop_get_separate_lanes() -> None:
    started = 0
    both = asyncio.Event()

    async def node(state: S) -> dict:
        nonlocal started
        started += 1
        if started == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 10)
        return {"log": ["x"]}

    trace = Trace()
    asyncio.run(fan_out(node, 2).ainvoke({}, config={"trace": trace}))
    lanes = {a.node: lane for lane, a in assign_lanes(trace.attempts)}
    workers = {a.node: a.worker for a in trace.attempts}
    assert workers["n0"] == workers["n1"] and workers["n0"].startswith("asyncio@")
    assert {lanes["n0"], lanes["n1"]} == {workers["n0"], workers["n0"] + " #2"}


def test_one_trace_shared_by_a_batch_keeps_every_run_apart() -> None:
    trace = Trace()
    graph = fan_out(lambda s: {"log": ["x"]})
    graph.batch([{}, {}, {}], config={"trace": trace})
    runs = {a.run_id for a in trace.attempts}
    assert len(runs) == 3
    assert sorted(a.node for a in trace.attempts) == sorted(["n0", "n1", "n2", "join"] * 3)


def test_eager_runs_are_traced_with_their_depth_as_step() -> None:
    b = StateGraph(S)
    b.add_node("a", lambda s: {"log": ["a"]})
    b.add_node("b", lambda s: {"log": ["b"]})
    b.add_edge(START, "a")
    b.add_edge("a", "b")
    trace = Trace()
    b.compile(scheduling="eager").invoke({}, config={"trace": trace})
    assert [(a.node, a.step) for a in trace.attempts] == [("a", 1), ("b", 2)]


def test_trace_config_is_checked_and_not_handed_to_nodes() -> None:
    seen = {}

    def node(state: S, config: dict) -> dict:
        seen.update(config["configurable"])
        return {}

    b = StateGraph(S)
    b.add_node("n", node)
    b.add_edge(START, "n")
    graph = b.compile()
    graph.invoke({}, config={"trace": Trace(), "observer": [], "other": 1})
    assert seen == {"other": 1}
    with pytest.raises(TypeError, match="config\\['trace'\\]"):
        graph.invoke({}, config={"trace": 42})
    with pytest.raises(TypeError, match="config\\['observer'\\]"):
        graph.invoke({}, config={"observer": [object()]})


def _attempt(worker: str, start: float, end: float, node: str = "n") -> TaskAttempt:
    return TaskAttempt("r", 1, node, 1, worker, start, end, "succeeded")


def test_lanes_split_only_where_a_worker_overlaps_itself() -> None:
    attempts = [
        _attempt("w", 0, 2, "a"),
        _attempt("w", 1, 3, "b"),  # overlaps a: second lane
        _attempt("w", 2, 4, "c"),  # a is done: back to the first lane
        _attempt("v", 0, 9, "d"),
    ]
    assert [(lane, a.node) for lane, a in assign_lanes(attempts)] == [
        ("w", "a"),
        ("v", "d"),
        ("w #2", "b"),
        ("w", "c"),
    ]
    events = chrome_trace(attempts)["traceEvents"]
    assert sorted(e["ts"] for e in events if e["ph"] == "X") == [0, 0, 1e6, 2e6]


def test_timeline_png(tmp_path) -> None:
    trace = Trace()
    fan_out(overlapping(3)).invoke({}, config={"trace": trace})
    path = tmp_path / "timeline.png"
    trace.save_timeline(path)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    with pytest.raises(ValueError, match="no task attempts"):
        Trace().save_timeline(tmp_path / "empty.png")
