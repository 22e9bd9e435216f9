"""langchain-core Runnables as nodes and routes, and the config they receive."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, Any, Literal, TypedDict
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import StateGraph as LGStateGraph

from graphpool import END, START, InvalidNodeError, StateGraph

pytestmark = pytest.mark.timeout(30)


class S(TypedDict, total=False):
    x: int
    log: Annotated[list, operator.add]


class Recorder(BaseCallbackHandler):
    """Remembers every chain run it is told about."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def on_chain_start(
        self,
        serialized: Any,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        with self.lock:
            self.runs.append(
                {
                    "name": kwargs.get("name"),
                    "run_id": run_id,
                    "parent_run_id": parent_run_id,
                    "tags": tags or [],
                    "metadata": metadata or {},
                }
            )

    def named(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["name"] == name]


def increment(state: dict) -> dict:
    return {"x": state["x"] + 1, "log": ["increment"]}


def test_runnable_node_is_named_after_the_runnable() -> None:
    builder = StateGraph(S)
    builder.add_node(RunnableLambda(increment))
    builder.add_edge(START, "increment")
    assert list(builder.nodes) == ["increment"]
    assert builder.compile().invoke({"x": 1}) == {"x": 2, "log": ["increment"]}


def test_not_callable_and_not_runnable_is_still_rejected() -> None:
    with pytest.raises(InvalidNodeError, match="Runnable"):
        StateGraph(S).add_node("bad", 42)  # type: ignore[arg-type]


def route(state: dict) -> Literal["big", "small"]:
    return "big" if state["x"] > 5 else "small"


def graph_with_runnables(graph_cls: Any) -> Any:
    builder = graph_cls(S)
    chain = RunnableLambda(lambda s: s["x"] * 3) | RunnableLambda(lambda v: {"x": v})
    builder.add_node("triple", chain)
    builder.add_node("big", RunnableLambda(lambda s: {"log": ["big"]}))
    builder.add_node("small", RunnableLambda(lambda s: {"log": ["small"]}))
    builder.add_edge(START, "triple")
    builder.add_conditional_edges("triple", RunnableLambda(route))
    builder.add_edge("big", END)
    builder.add_edge("small", END)
    return builder.compile()


@pytest.mark.parametrize("x", [1, 3])
def test_runnable_nodes_and_route_match_langgraph(x: int) -> None:
    expected = graph_with_runnables(LGStateGraph).invoke({"x": x})
    actual = graph_with_runnables(StateGraph).invoke({"x": x})
    assert actual == expected
    assert list(graph_with_runnables(StateGraph).stream({"x": x}, stream_mode="updates")) == list(
        graph_with_runnables(LGStateGraph).stream({"x": x}, stream_mode="updates")
    )


def test_route_literal_is_read_from_the_wrapped_function() -> None:
    builder = StateGraph(S)
    builder.add_node("a", lambda s: {})
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", RunnableLambda(route))
    branch = builder.branches["a"]["route"]
    assert branch.ends == {"big": "big", "small": "small"}


def test_async_only_runnable_runs_under_invoke_and_ainvoke() -> None:
    async def bump(state: dict) -> dict:
        await asyncio.sleep(0)
        return {"x": state["x"] + 10}

    builder = StateGraph(S)
    builder.add_node("bump", RunnableLambda(bump))
    builder.add_edge(START, "bump")
    graph = builder.compile()
    assert graph.invoke({"x": 1})["x"] == 11
    assert asyncio.run(graph.ainvoke({"x": 2}))["x"] == 12


def test_runnable_node_errors_keep_their_type() -> None:
    def fail(state: dict) -> dict:
        raise LookupError("no such thing")

    builder = StateGraph(S)
    builder.add_node("fail", RunnableLambda(fail))
    builder.add_edge(START, "fail")
    with pytest.raises(LookupError, match="no such thing"):
        builder.compile().invoke({"x": 1})


@pytest.mark.parametrize("asynchronous", [False, True], ids=["invoke", "ainvoke"])
def test_runnable_node_gets_the_callers_callbacks_tags_and_metadata(asynchronous: bool) -> None:
    seen: dict[str, Any] = {}

    def node(state: dict, config: dict) -> dict:
        seen.update(config)
        return {"x": 1}

    recorder = Recorder()
    builder = StateGraph(S)
    builder.add_node("work", RunnableLambda(node, name="work_fn"))
    builder.add_edge(START, "work")
    graph = builder.compile()
    config = {
        "callbacks": [recorder],
        "tags": ["caller-tag"],
        "metadata": {"user": "u1"},
        "run_name": "whole run",
        "configurable": {"thread": "t"},
    }
    if asynchronous:
        asyncio.run(graph.ainvoke({"x": 0}, config))
    else:
        graph.invoke({"x": 0}, config)
    [run] = recorder.named("work_fn")
    assert "caller-tag" in run["tags"]
    assert run["metadata"]["user"] == "u1"
    assert run["metadata"]["langgraph_node"] == "work"
    assert run["metadata"]["langgraph_step"] == 1
    assert seen["configurable"]["thread"] == "t"
    # like LangGraph: the run's own name and id are not handed to its nodes; the
    # name goes to the graph's own callback run, with the node's run below it
    assert "run_name" not in seen and "run_id" not in seen
    [whole] = recorder.named("whole run")
    [node_run] = recorder.named("work")
    assert node_run["parent_run_id"] == whole["run_id"]
    assert run["parent_run_id"] == node_run["run_id"]


def test_runnables_called_inside_plain_nodes_inherit_the_node_config() -> None:
    recorder = Recorder()
    inner = RunnableLambda(lambda v: v + 1, name="inner")

    def plain(state: dict) -> dict:  # no config parameter, no config passed on
        return {"x": inner.invoke(state["x"])}

    async def plain_async(state: dict) -> dict:
        return {"x": await inner.ainvoke(state["x"])}

    for fn, call in ((plain, "invoke"), (plain_async, "invoke"), (plain_async, "ainvoke")):
        recorder.runs.clear()
        builder = StateGraph(S)
        builder.add_node("plain", fn)
        builder.add_edge(START, "plain")
        graph = builder.compile()
        config = {"callbacks": [recorder], "tags": ["outer"]}
        if call == "invoke":
            assert graph.invoke({"x": 1}, config)["x"] == 2
        else:
            assert asyncio.run(graph.ainvoke({"x": 1}, config))["x"] == 2
        [run] = recorder.named("inner")
        assert run["tags"] == ["outer"], (fn.__name__, call)
        assert run["metadata"]["langgraph_node"] == "plain"


def test_langgraph_ignores_run_name_for_nodes_too() -> None:
    seen: dict[str, Any] = {}

    def node(state: dict, config: RunnableConfig) -> dict:
        seen.update(config)
        return {"x": 1}

    builder = LGStateGraph(S)
    builder.add_node("work", node)
    builder.add_edge(START, "work")
    builder.compile().invoke({"x": 0}, {"run_name": "whole run", "tags": ["t"]})
    assert "run_name" not in seen and seen["tags"] == ["t"]
