"""``cache_policy`` on nodes with ``compile(cache=...)``, compared with LangGraph."""

import asyncio
import operator
from typing import Annotated

import pytest
from typing_extensions import TypedDict

import graphpool
from graphpool.cache.memory import InMemoryCache

langgraph_graph = pytest.importorskip("langgraph.graph")
import langgraph.cache.memory  # noqa: E402
import langgraph.types  # noqa: E402


class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def _run(lib: str, clear_async: bool = False):
    graph_mod = graphpool if lib == "graphpool" else langgraph_graph
    policy_cls = graphpool.CachePolicy if lib == "graphpool" else langgraph.types.CachePolicy
    cache = InMemoryCache() if lib == "graphpool" else langgraph.cache.memory.InMemoryCache()
    calls = []

    def slow(state: S) -> dict:
        calls.append(state["x"])
        return {"log": [f"slow {state['x']}"]}

    builder = graph_mod.StateGraph(S)
    builder.add_node("slow", slow, cache_policy=policy_cls())
    builder.add_node("after", lambda s: {"log": ["after"]})
    builder.add_edge(graph_mod.START, "slow")
    builder.add_edge("slow", "after")
    graph = builder.compile(cache=cache)
    out = [
        list(graph.stream({"x": 1, "log": []})),
        list(graph.stream({"x": 1, "log": []})),  # cached: the node does not run
        graph.invoke({"x": 2, "log": []}),
    ]
    if clear_async:
        asyncio.run(graph.aclear_cache())
    else:
        graph.clear_cache()
    out.append(graph.invoke({"x": 1, "log": []}))
    return out, calls


@pytest.mark.parametrize("clear_async", [False, True], ids=["clear_cache", "aclear_cache"])
def test_a_cached_node_does_not_run_again_as_in_langgraph(clear_async: bool) -> None:
    ours, theirs = _run("graphpool", clear_async), _run("langgraph", clear_async)
    assert ours == theirs
    assert ours[1] == [1, 2, 1]
    assert ours[0][1][0] == {"slow": {"log": ["slow 1"]}, "__metadata__": {"cached": True}}


def test_a_bad_cache_policy_fails_at_add_node() -> None:
    builder = graphpool.StateGraph(S)
    with pytest.raises(graphpool.InvalidGraphError, match="cache_policy"):
        builder.add_node("n", lambda s: {}, cache_policy={"ttl": 5})
