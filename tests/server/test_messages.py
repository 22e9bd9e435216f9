"""LLM tokens over the API: ``messages-tuple`` (chunk, metadata) and ``messages``
(the message so far, with its metadata first)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

QUESTION = {"messages": [{"role": "user", "content": "hi"}]}


def test_messages_tuple(client) -> None:
    parts = list(client.runs.stream(None, "chat", input=QUESTION, stream_mode="messages-tuple"))
    tokens = [p.data for p in parts if p.event == "messages"]
    assert "".join(chunk["content"] for chunk, _ in tokens) == "hello there friend"
    assert {meta["langgraph_node"] for _, meta in tokens} == {"reply"}


def test_messages_partial(client) -> None:
    parts = list(client.runs.stream(None, "chat", input=QUESTION, stream_mode="messages"))
    events = [p.event for p in parts]
    assert events[1] == "messages/metadata"
    assert parts[1].data["ai-1"]["metadata"]["langgraph_node"] == "reply"
    partial = [p.data[0]["content"] for p in parts if p.event == "messages/partial"]
    assert partial[-1] == "hello there friend"
    assert partial == sorted(partial, key=len)  # each one the message so far


def test_final_state_holds_plain_messages(client) -> None:
    result = client.runs.wait(None, "chat", input=QUESTION)
    assert [(m["type"], m["content"]) for m in result["messages"]] == [
        ("human", "hi"),
        ("ai", "hello there friend"),
    ]
