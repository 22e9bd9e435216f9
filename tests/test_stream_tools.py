"""``stream_mode="tools"`` (``graphpool._stream_tools``): one chunk per tool call event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.tools import tool

from graphpool.graph import START, MessagesState, StateGraph

pytestmark = pytest.mark.timeout(30)


@tool
def shout(text: str) -> str:
    """Shout the text."""
    return text.upper()


@tool
def fail(text: str) -> str:
    """Always fails."""
    raise ValueError(f"no {text}")


def _graph(node: Any) -> Any:
    return StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()


def test_a_tool_call_starts_and_finishes() -> None:
    def node(state: MessagesState) -> dict:
        shout.invoke({"name": "shout", "args": {"text": "hi"}, "id": "c1", "type": "tool_call"})
        return {}

    events = list(_graph(node).stream({"messages": []}, stream_mode="tools"))
    assert [e["event"] for e in events] == ["tool-started", "tool-finished"]
    assert events[0] == {
        "event": "tool-started",
        "tool_call_id": "c1",
        "tool_name": "shout",
        "input": {"text": "hi"},
    }
    assert events[1]["tool_call_id"] == "c1"
    assert events[1]["output"].content == "HI"  # called with a ToolCall: a ToolMessage


def test_a_failing_tool_reports_its_error_and_the_run_sees_it() -> None:
    def node(state: MessagesState) -> dict:
        with pytest.raises(ValueError, match="no way"):
            fail.invoke({"text": "way"})
        return {}

    events = list(_graph(node).stream({"messages": []}, stream_mode=["tools"]))
    assert [(mode, e["event"]) for mode, e in events] == [
        ("tools", "tool-started"),
        ("tools", "tool-error"),
    ]
    assert events[1][1]["message"] == "no way"
    assert events[0][1]["tool_call_id"] == events[1][1]["tool_call_id"]  # the tool run's id


def test_nostream_tools_and_runs_without_the_mode_send_nothing() -> None:
    def node(state: MessagesState) -> dict:
        shout.with_config(tags=["nostream"]).invoke({"text": "quiet"})
        return {}

    graph = _graph(node)
    assert list(graph.stream({"messages": []}, stream_mode="tools")) == []
    assert list(graph.stream({"messages": []}, stream_mode="updates")) == [{"node": None}]


def test_async_nodes_tools_stream_too() -> None:
    async def node(state: MessagesState) -> dict:
        await shout.ainvoke({"text": "a"})
        return {}

    async def collect() -> list[Any]:
        stream = _graph(node).astream({"messages": []}, stream_mode="tools", version="v2")
        return [e async for e in stream]

    events = asyncio.run(collect())
    assert [(p["type"], p["ns"], p["data"]["event"]) for p in events] == [
        ("tools", (), "tool-started"),
        ("tools", (), "tool-finished"),
    ]
