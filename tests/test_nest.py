"""Subgraphs on the pool (``graphpool._nest``): where nested runs' tasks run, and
that a parent waiting on its subgraph never starves it of workers."""

from __future__ import annotations

import operator
import threading
from typing import Annotated, TypedDict

import pytest

from graphpool import END, START, InvalidGraphError, Send, StateGraph, ThreadPool
from graphpool.checkpoint.memory import InMemorySaver


class Fan(TypedDict):
    leaves: Annotated[list, operator.add]
    threads: Annotated[list, operator.add]


def _fan_graph(child, width: int = 3):
    """START fans out ``width`` tasks; each runs ``child`` (a compiled graph) or is a leaf."""
    g = StateGraph(Fan)

    def spread(state: Fan):
        return [Send("work", {"leaves": [], "threads": []})] * width

    if child is None:

        def work(state: Fan):
            return {"leaves": [1], "threads": [threading.current_thread().name]}

        g.add_node("work", work)
    else:
        g.add_node("work", child)
    g.add_conditional_edges(START, spread, ["work"])
    g.add_edge("work", END)
    return g.compile()


@pytest.mark.timeout(60)
def test_three_levels_of_fan_outs_finish_on_two_workers() -> None:
    pool = ThreadPool(max_workers=2, name="nest")
    try:
        level3 = _fan_graph(None)
        level2 = _fan_graph(level3)
        root = StateGraph(Fan)
        root.add_node("top", _fan_graph(level2))
        root.add_edge(START, "top")
        graph = root.compile(pool=pool)
        out = graph.invoke({"leaves": [], "threads": []})
        assert len(out["leaves"]) == 27
        assert pool.stats().workers <= 2
        # the leaves ran on the pool's workers (a waiting parent runs its own queued ones)
        assert any(name.startswith("nest") for name in out["threads"]), out["threads"]
    finally:
        pool.shutdown()


class Counter(TypedDict):
    log: Annotated[list, operator.add]


def test_subgraph_tasks_run_on_the_parents_pool() -> None:
    pool = ThreadPool(max_workers=4, name="subpool")
    seen: list[str] = []

    def record(name):
        def node(state):
            seen.append(threading.current_thread().name)
            return {"log": [name]}

        return node

    sub = StateGraph(Counter)
    sub.add_node("a", record("a"))
    sub.add_node("b", record("b"))
    sub.add_edge(START, "a")
    sub.add_edge(START, "b")
    parent = StateGraph(Counter)
    parent.add_node("child", sub.compile())  # no pool of its own: the parent's
    parent.add_edge(START, "child")
    try:
        out = parent.compile(pool=pool).invoke({"log": []})
        assert sorted(out["log"]) == ["a", "b"]
        assert any(name.startswith("subpool") for name in seen), seen
    finally:
        pool.shutdown()


def test_a_subgraph_node_is_refused_on_process_or_ray() -> None:
    sub = StateGraph(Counter)
    sub.add_node("a", lambda s: {"log": ["a"]})
    sub.add_edge(START, "a")
    parent = StateGraph(Counter)
    with pytest.raises(InvalidGraphError, match="compiled graph"):
        parent.add_node("child", sub.compile(), executor="process")


def test_a_failing_subgraph_task_fails_the_parent_with_its_error() -> None:
    def boom(state):
        raise KeyError("inner")

    sub = StateGraph(Counter)
    sub.add_node("boom", boom)
    sub.add_node("ok", lambda s: {"log": ["ok"]})
    sub.add_edge(START, "boom")
    sub.add_edge(START, "ok")
    parent = StateGraph(Counter)
    parent.add_node("child", sub.compile())
    parent.add_edge(START, "child")
    with pytest.raises(KeyError, match="inner"):
        parent.compile().invoke({"log": []})


def test_checkpointer_true_keeps_one_thread_per_subgraph_node() -> None:
    sub = StateGraph(Counter)
    sub.add_node("a", lambda s: {"log": ["a"]})
    sub.add_edge(START, "a")
    child = sub.compile(checkpointer=True)
    parent = StateGraph(Counter)
    parent.add_node("child", child)
    parent.add_edge(START, "child")
    saver = InMemorySaver()
    graph = parent.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({"log": []}, config)
    graph.invoke({"log": []}, config)
    inner = saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": "child"}})
    assert inner is not None
    assert inner.config["configurable"]["checkpoint_ns"] == "child"
    # the second call continued the first's thread: its state kept the first's log
    assert inner.checkpoint.values["log"].count("a") >= 2
