"""A subgraph's run on its root's saver holds no lease of its own: the root's covers it.

So parallel calls of one ``checkpointer=True`` subgraph (one namespace) in one
parent step both run, on every saver, while another run on the same thread is
still turned away (``_checkpointing.Checkpointing``).
"""

from __future__ import annotations

import operator
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, TypedDict

import pytest

from graphpool.errors import ThreadBusyError
from graphpool.graph import START, StateGraph
from graphpool.types import Send

pytestmark = pytest.mark.timeout(60)


class Inner(TypedDict, total=False):
    x: int
    seen: Annotated[list, operator.add]


class Outer(TypedDict, total=False):
    items: list
    out: Annotated[list, operator.add]


def test_parallel_calls_of_a_keeping_subgraph_share_its_thread(saver, request) -> None:
    both_inside = threading.Barrier(3, timeout=20)  # the two calls and this test
    go = threading.Event()

    def work(state: Inner) -> dict:
        both_inside.wait()
        assert go.wait(20)
        return {"seen": [state["x"]]}

    inner = StateGraph(Inner)
    inner.add_node("work", work)
    inner.add_edge(START, "work")
    keeping = inner.compile(checkpointer=True)

    def call(state: Inner) -> dict:
        return {"out": [[state["x"], keeping.invoke({"x": state["x"]})["seen"]]]}

    parent = StateGraph(Outer)
    parent.add_node("call", call)
    parent.add_conditional_edges(START, lambda s: [Send("call", {"x": i}) for i in s["items"]])
    graph = parent.compile(checkpointer=saver)
    thread = {"configurable": {"thread_id": f"parallel-{request.node.name}"}}

    def run(items: list[int]) -> dict:
        """Invoke with both calls held inside the subgraph until another run was refused."""
        with ThreadPoolExecutor(1) as runner:
            running = runner.submit(graph.invoke, {"items": items}, thread)
            both_inside.wait()  # both calls are inside the subgraph now
            with pytest.raises(ThreadBusyError):  # the root's lease still holds the thread
                graph.invoke({"items": [1]}, thread)
            go.set()
            result = running.result(timeout=30)
        both_inside.reset()
        go.clear()
        return result

    assert run([5, 5])["out"] == [[5, [5]], [5, [5]]]
    assert run([3, 4])["out"][2:] == [[3, [5, 3]], [4, [5, 4]]]  # both from the same base
    namespace = {"configurable": {**thread["configurable"], "checkpoint_ns": "call"}}
    kept = saver.get_tuple(namespace)
    assert kept is not None and kept.checkpoint.values["seen"][0] == 5
