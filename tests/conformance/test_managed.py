"""Managed keys (``RemainingSteps``, ``IsLastStep``): what nodes see, what the
builder lists, and that they never show in the output, as in LangGraph."""

import importlib
import operator
from typing import Annotated

import pytest
from typing_extensions import NotRequired, Required, TypedDict

pytestmark = pytest.mark.timeout(30)


def _graph(lib, limit_hit: bool = False):
    managed = importlib.import_module(f"{lib.name}.managed")

    class State(TypedDict):
        log: Annotated[list, operator.add]
        left: managed.RemainingSteps
        last: NotRequired[managed.IsLastStep]

    def node(name):
        return lambda s: {"log": [(name, s["left"], s["last"])]}

    g = lib.StateGraph(State)
    for name in ("a", "b", "c"):
        g.add_node(name, node(name))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    return g


@pytest.mark.parametrize("limit", [3, 4, 25])
def test_nodes_see_the_steps_left(lib, langgraph_lib, limit) -> None:
    def run(which):
        graph = _graph(which).compile(checkpointer=which.MemorySaver())
        config = {"configurable": {"thread_id": "t"}, "recursion_limit": limit}
        first = graph.invoke({"log": []}, config)
        again = graph.invoke({"log": []}, config)  # counted from this run's start
        return first, [tuple(x) for x in again["log"]], graph.get_state(config).values.keys()

    assert run(lib) == run(langgraph_lib)


def test_the_builder_lists_managed_keys_apart_from_channels(lib, langgraph_lib) -> None:
    def keys(which):
        managed = importlib.import_module(f"{which.name}.managed")

        class Plain(TypedDict):
            steps: managed.RemainingSteps

        class Wrapped(TypedDict):
            x: int
            steps: Required[managed.RemainingSteps]

        plain, wrapped = which.StateGraph(Plain), which.StateGraph(Wrapped)
        return (
            sorted(plain.managed),
            sorted(wrapped.managed),
            sorted(wrapped.channels),
            sorted(_graph(which).channels),
        )

    assert keys(lib) == keys(langgraph_lib)
