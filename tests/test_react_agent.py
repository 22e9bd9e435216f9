"""The classic ReAct agent on graphpool and on LangGraph: same messages, tools in parallel."""

from __future__ import annotations

import asyncio
import threading

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableLambda
from lc_fakes import (
    ToolCallingFakeModel,
    ToolLog,
    build_agent,
    comparable,
    graphpool_lib,
    langgraph_lib,
    make_tools,
    script,
)

pytestmark = pytest.mark.timeout(30)

QUESTION = {"messages": [HumanMessage("Weather and population of Paris?", id="human-1")]}


def run_agent(lib, *, barrier: threading.Barrier | None = None, asynchronous: bool = False):
    log = ToolLog(barrier)
    graph = build_agent(lib, ToolCallingFakeModel(messages=iter(script())), make_tools(log))
    if asynchronous:
        out = asyncio.run(graph.ainvoke(QUESTION))
    else:
        out = graph.invoke(QUESTION)
    return out["messages"], log


@pytest.mark.parametrize("asynchronous", [False, True], ids=["invoke", "ainvoke"])
def test_final_messages_match_langgraph(asynchronous: bool) -> None:
    expected, _ = run_agent(langgraph_lib(), asynchronous=asynchronous)
    actual, log = run_agent(graphpool_lib(), asynchronous=asynchronous)
    assert comparable(actual) == comparable(expected)
    # what the comparison covers, spelled out
    assert [type(m).__name__ for m in actual] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "ToolMessage",
        "AIMessage",
    ]
    assert [c["id"] for c in actual[1].tool_calls] == ["call-weather", "call-population"]
    assert [m.tool_call_id for m in actual[2:4]] == ["call-weather", "call-population"]
    assert actual[2].content == "sunny in Paris"
    assert actual[-1].content == "Paris: sunny, 2.1 million people."
    assert set(log.spans) == {"weather", "population"}


def test_the_two_tool_calls_run_at_the_same_time() -> None:
    # Each tool waits at a two-party barrier: it only passes once the other
    # tool is running too, so sequential execution breaks the barrier and fails.
    messages, log = run_agent(graphpool_lib(), barrier=threading.Barrier(2, timeout=10))
    assert [m.tool_call_id for m in messages if m.type == "tool"] == [
        "call-weather",
        "call-population",
    ]
    (start_w, end_w, thread_w), (start_p, end_p, thread_p) = (
        log.spans["weather"],
        log.spans["population"],
    )
    assert max(start_w, start_p) < min(end_w, end_p), "the two tool calls did not overlap"
    assert thread_w != thread_p


def test_the_two_tool_calls_overlap_under_ainvoke_too() -> None:
    messages, log = run_agent(
        graphpool_lib(), barrier=threading.Barrier(2, timeout=10), asynchronous=True
    )
    assert len([m for m in messages if m.type == "tool"]) == 2
    assert len(log.spans) == 2


def test_langgraphs_own_tool_node_runs_unchanged_on_graphpool() -> None:
    lib = graphpool_lib()
    from langgraph.prebuilt import ToolNode, tools_condition

    lib.ToolNode, lib.tools_condition = ToolNode, tools_condition
    expected, _ = run_agent(langgraph_lib())
    actual, _ = run_agent(lib)
    assert comparable(actual) == comparable(expected)


def test_a_chain_as_the_model_node_matches_langgraph() -> None:
    def build(lib):
        model = ToolCallingFakeModel(messages=iter(script()))
        chain = (
            RunnableLambda(lambda state: state["messages"])
            | model
            | RunnableLambda(lambda message: {"messages": [message]})
        )
        return build_agent(lib, model, make_tools(ToolLog()), agent=chain)

    expected = build(langgraph_lib()).invoke(QUESTION)["messages"]
    actual = build(graphpool_lib()).invoke(QUESTION)["messages"]
    assert comparable(actual) == comparable(expected)
    assert len(actual) == 5
