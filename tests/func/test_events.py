"""Task calls in graph nodes stream their updates while the node still runs.

The run streams ``updates`` only (no ``custom``, so it has no sink of its own):
the node waits until the caller has seen its first call's update before it goes
on, so an update held back until the node ends fails the test (the node's wait
gives up after 10 s and fails the run). A run's node may run in the caller's
thread (a step's only node, or one the caller keeps to run while it waits): its
calls' updates then come out when it ends, still before its own; from then on
the run keeps its nodes off the caller's thread, so "warm" nodes call a task
first.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import TypedDict

import pytest

from graphpool.func import task
from graphpool.graph import START, StateGraph

pytestmark = pytest.mark.timeout(60)


class State(TypedDict):
    n: int


@task
def double(x: int) -> int:
    return 2 * x


def _graph(node, warm=None):
    graph = StateGraph(State)
    graph.add_node("node", node)
    if warm is None:
        graph.add_edge(START, "node")
    else:
        graph.add_node("warm", warm)
        graph.add_edge(START, "warm")
        graph.add_edge("warm", "node")
    return graph.compile()


def _warm(state: State) -> dict:
    return {"n": double(state["n"]).result()}


def test_a_task_update_streams_before_its_node_ends() -> None:
    seen = threading.Event()

    def node(state: State) -> dict:
        first = double(state["n"]).result()
        if not seen.wait(10):
            raise AssertionError("the task's update did not reach the caller while the node ran")
        return {"n": double(first).result()}

    chunks = []
    for chunk in _graph(node, _warm).stream({"n": 1}, stream_mode="updates"):
        chunks.append(chunk)
        if chunk == {"double": 4}:
            seen.set()
    assert chunks == [
        {"double": 2},
        {"warm": {"n": 2}},
        {"double": 4},
        {"double": 8},
        {"node": {"n": 8}},
    ]


def test_an_async_run_streams_task_updates_live_too() -> None:
    async def run() -> list[dict]:
        seen = asyncio.Event()

        async def node(state: State) -> dict:
            first = await double(state["n"])
            await asyncio.wait_for(seen.wait(), 10)
            return {"n": await double(first)}

        chunks = []
        async for chunk in _graph(node, _warm).astream({"n": 1}, stream_mode="updates"):
            chunks.append(chunk)
            if chunk == {"double": 4}:
                seen.set()
        return chunks

    assert asyncio.run(run()) == [
        {"double": 2},
        {"warm": {"n": 2}},
        {"double": 4},
        {"double": 8},
        {"node": {"n": 8}},
    ]


def test_a_lone_node_on_the_callers_thread_streams_them_before_its_update() -> None:
    def node(state: State) -> dict:
        return {"n": double(double(state["n"]).result()).result()}

    chunks = list(_graph(node).stream({"n": 1}, stream_mode=["updates", "values"]))
    assert chunks == [
        ("values", {"n": 1}),
        ("updates", {"double": 2}),
        ("updates", {"double": 4}),
        ("updates", {"node": {"n": 4}}),
        ("values", {"n": 4}),
    ]


def test_invoke_makes_no_chunks_for_task_calls() -> None:
    def node(state: State) -> dict:
        return {"n": double(state["n"]).result()}

    graph = _graph(node)
    assert graph.invoke({"n": 3}) == {"n": 6}
    assert list(graph.stream({"n": 3}, stream_mode="values")) == [{"n": 3}, {"n": 6}]


def test_each_calls_start_and_end_events_carry_one_id_of_its_own() -> None:
    # a call's id is made when first read (here: by its start event); its end
    # event, on the worker thread, must read the same one
    from graphpool.func import entrypoint

    @entrypoint()
    def fan(n: int) -> int:
        return sum(f.result() for f in [double(i) for i in range(n)])

    events = [e for e in fan.stream(4, stream_mode="tasks") if e["name"] == "double"]
    inputs = {e["id"]: e["input"][0][0] for e in events if "input" in e}
    results = {e["id"]: e["result"]["__return__"] for e in events if "result" in e}
    assert len(inputs) == 4 and all(str(uuid.UUID(i)) == i for i in inputs)
    assert results == {ident: 2 * x for ident, x in inputs.items()}
