"""Tasks on a bounded pool: nests of calls never deadlock, and the run's pool is used."""

from __future__ import annotations

import threading

import pytest

import graphpool
from graphpool.checkpoint import InMemorySaver
from graphpool.func import entrypoint, task
from graphpool.graph import END, START, StateGraph

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def small_pool():
    pool = graphpool.ThreadPool(max_workers=2, name="small")
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


@task
def leaf(x: int) -> int:
    return x + 1


@task
def middle(x: int) -> int:
    return sum(f.result() for f in [leaf(x), leaf(x), leaf(x)])


@task
def top(x: int) -> int:
    return sum(f.result() for f in [middle(x), middle(x + 1), middle(x + 2)])


def test_tasks_calling_tasks_three_deep_on_two_workers(small_pool) -> None:
    @entrypoint(pool=small_pool)
    def main(xs: list[int]) -> list[int]:
        return [f.result() for f in [top(x) for x in xs]]

    assert main.invoke([0, 10]) == [18, 108]


def test_an_entrypoint_called_from_a_graph_node_on_two_workers(small_pool) -> None:
    @entrypoint()
    def child(x: int) -> int:
        return sum(f.result() for f in [middle(x), middle(x)])

    def node(state: dict) -> dict:
        return {"n": child.invoke(state["n"])}

    from typing import TypedDict

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("node", node)
    graph.add_node("again", node)
    graph.add_edge(START, "node")
    graph.add_edge("node", "again")
    graph.add_edge("again", END)
    assert graph.compile(pool=small_pool).invoke({"n": 0}) == {"n": 42}


def test_tasks_run_on_the_runs_pool(small_pool) -> None:
    names: list[str] = []

    @task
    def where() -> str:
        names.append(threading.current_thread().name)
        return "ok"

    @entrypoint(pool=small_pool)
    def main(n: int) -> list[str]:
        return [f.result() for f in [where() for _ in range(n)]]

    assert main.invoke(4) == ["ok"] * 4
    assert len(names) == 4
    assert all(name.startswith("small") for name in names), names


def test_a_task_called_from_a_graph_node_is_saved_and_reused() -> None:
    ran: list[int] = []

    @task
    def count(x: int) -> int:
        ran.append(x)
        return x

    def node(state: dict) -> dict:
        value = count(state["n"]).result()
        answer = graphpool.interrupt("go?")
        return {"n": value + answer}

    from typing import TypedDict

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("node", node)
    graph.add_edge(START, "node")
    compiled = graph.compile(checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    compiled.invoke({"n": 5}, cfg)
    assert compiled.invoke(graphpool.Command(resume=1), cfg) == {"n": 6}
    assert ran == [5]
