"""Parallel calls of one ``checkpointer=True`` subgraph in one parent step.

Such a subgraph keeps one history per thread, under its node's name: two calls
in one step share it. In LangGraph both run at once, each from the history's
latest checkpoint when it starts (graphpool used to turn the second away with
``ThreadBusyError``: both took a lease on the one namespace). A barrier in the
subgraph's node makes both calls be inside at once (a runtime that turned the
second away, or ran them one after the other, fails the case).
"""

import operator
import threading
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Inner(TypedDict, total=False):
    x: int
    seen: Annotated[list, operator.add]


class Outer(TypedDict, total=False):
    items: list
    out: Annotated[list, operator.add]


def _keeping(lib):
    both_inside = threading.Barrier(2, timeout=10)

    def work(state):
        both_inside.wait()
        return {"seen": [state["x"]]}

    inner = lib.StateGraph(Inner)
    inner.add_node("work", work)
    inner.add_edge(lib.START, "work")
    return inner.compile(checkpointer=True)


def _twice(graph):
    # the first step's two calls save the same history ([5]), so which one saves
    # last (a race in both libraries) does not change what the second step sees
    thread = {"configurable": {"thread_id": "t"}}
    return [graph.invoke({"items": items}, thread) for items in ([5, 5], [3, 4])]


def _fan_out(lib, parent):
    parent.add_conditional_edges(
        lib.START, lambda s: [lib.Send("call", {"x": i}) for i in s["items"]]
    )
    return parent.compile(checkpointer=lib.MemorySaver())


@case()
def case_sends_to_one_keeping_subgraph_run_at_once(lib):
    inner = _keeping(lib)

    def call(state):
        return {"out": [[state["x"], inner.invoke({"x": state["x"]})["seen"]]]}

    parent = lib.StateGraph(Outer)
    parent.add_node("call", call)
    return Scenario(_fan_out(lib, parent), mode="script", script=_twice)


@case()
def case_sends_to_a_keeping_subgraph_node_run_at_once(lib):
    class Both(TypedDict, total=False):
        items: list
        seen: Annotated[list, operator.add]

    parent = lib.StateGraph(Both)
    parent.add_node("call", _keeping(lib))
    return Scenario(_fan_out(lib, parent), mode="script", script=_twice)
