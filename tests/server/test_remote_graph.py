"""LangGraph's ``RemoteGraph`` (langgraph.pregel.remote) drives a served graph unchanged."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def test_remote_graph_invoke_stream_and_state(server: str, client) -> None:
    from langgraph.pregel.remote import RemoteGraph

    remote = RemoteGraph("chain", url=server)
    assert remote.invoke({"items": []}) == {"items": ["hello", "second"]}
    thread_id = client.threads.create()["thread_id"]
    config = {"configurable": {"thread_id": thread_id}}
    chunks = list(remote.stream({"items": ["a"]}, config, stream_mode="updates"))
    assert chunks == [{"first": {"items": ["hello"]}}, {"second": {"items": ["second"]}}]
    state = remote.get_state(config)
    assert state.values == {"items": ["a", "hello", "second"]}
    assert state.next == ()
    assert len(list(remote.get_state_history(config))) == 4


def test_remote_graph_interrupt_and_resume(server: str, client) -> None:
    from langgraph.pregel.remote import RemoteGraph
    from langgraph.types import Command

    remote = RemoteGraph("ask", url=server)
    config = {"configurable": {"thread_id": client.threads.create()["thread_id"]}}
    paused = remote.invoke({"items": []}, config)
    assert paused["__interrupt__"][0]["value"] == {"question": "name?"}  # v1: plain dicts
    assert remote.invoke(Command(resume="bob"), config) == {"items": ["second"], "answer": "bob"}
