"""stream_mode="messages": token chunks and node messages, compared with LangGraph."""

from __future__ import annotations

import asyncio
import operator
import threading
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from lc_fakes import (
    UUID_RE,
    StreamingFakeModel,
    ToolLog,
    build_agent,
    graphpool_lib,
    langgraph_lib,
    make_tools,
    script,
)

from graphpool import START, StateGraph
from graphpool.graph import MessagesState

pytestmark = pytest.mark.timeout(30)

QUESTION = {"messages": [HumanMessage("Weather and population of Paris?", id="human-1")]}


def summary(chunk: Any) -> tuple:
    message, metadata = chunk
    ident = message.id or ""
    if ident.startswith("lc_run-"):
        ident = "<run id>"
    elif UUID_RE.match(ident):
        ident = "<uuid>"
    return (
        type(message).__name__,
        message.content,
        ident,
        [dict(c) for c in getattr(message, "tool_call_chunks", None) or ()],
        getattr(message, "tool_call_id", None),
        metadata["langgraph_node"],
        metadata["langgraph_step"],
        metadata.get("tags"),
        metadata.get("ls_provider"),
    )


def stream_agent(lib, *, asynchronous: bool = False, config: dict | None = None) -> list:
    graph = build_agent(lib, StreamingFakeModel(messages=iter(script())), make_tools(ToolLog()))
    if not asynchronous:
        return list(graph.stream(QUESTION, config, stream_mode="messages"))

    async def go() -> list:
        return [c async for c in graph.astream(QUESTION, config, stream_mode="messages")]

    return asyncio.run(go())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["stream", "astream"])
def test_agent_messages_stream_matches_langgraph(asynchronous: bool) -> None:
    config = {"tags": ["demo"]}
    expected = [
        summary(c) for c in stream_agent(langgraph_lib(), asynchronous=asynchronous, config=config)
    ]
    actual = [
        summary(c) for c in stream_agent(graphpool_lib(), asynchronous=asynchronous, config=config)
    ]
    assert actual == expected
    kinds = [(s[0], s[5]) for s in actual]
    assert kinds.count(("ToolMessage", "tools")) == 2
    assert ("AIMessageChunk", "agent") in kinds
    assert "".join(s[1] for s in actual if s[0] == "AIMessageChunk" and s[6] == 3) == (
        "Paris: sunny, 2.1 million people."
    )


def test_tokens_reach_the_caller_while_the_node_runs() -> None:
    # The model will not hand out its second token until the caller has received
    # the first: if chunks only went out when the node returned, this would hang.
    received_first = threading.Event()

    def before_token(i: int) -> None:
        if i == 1:
            assert received_first.wait(10), "the first token did not reach the caller live"

    model = StreamingFakeModel(messages=iter(["one two three"]), before_token=before_token)
    builder = StateGraph(MessagesState)
    builder.add_node("agent", lambda s: {"messages": [model.invoke(s["messages"])]})
    builder.add_edge(START, "agent")
    tokens = []
    for message, _ in builder.compile().stream({"messages": "hi"}, stream_mode="messages"):
        tokens.append(message.content)
        received_first.set()
    assert tokens[:3] == ["one ", "two ", "three"]


def test_async_node_tokens_reach_the_caller_while_it_runs() -> None:
    received_first = asyncio.Event()

    model = StreamingFakeModel(messages=iter(["one two"]))

    async def agent(state: dict) -> dict:
        chunks = []
        async for chunk in model.astream(state["messages"]):
            chunks.append(chunk)
            await asyncio.wait_for(received_first.wait(), 10)
        return {"messages": [AIMessage("one two", id=chunks[0].id)]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_edge(START, "agent")

    async def go() -> list:
        out = []
        async for message, _ in builder.compile().astream(
            {"messages": "hi"}, stream_mode="messages"
        ):
            out.append(message.content)
            received_first.set()
        return out

    assert asyncio.run(go())[:2] == ["one ", "two"]


def _non_streaming_graph(lib_graph, lib_state, start, tags: list[str] | None = None):
    # GenericFakeChatModel streams; without _stream it answers in one piece
    model_cls = type("NoStream", (GenericFakeChatModel,), {"_stream": None})
    model = model_cls(messages=iter([AIMessage("all at once", id="whole")]))
    if tags:
        model = model.with_config(tags=tags)

    def agent(state: dict) -> dict:
        return {"messages": [model.invoke(state["messages"]), AIMessage("extra", id="extra")]}

    builder = lib_graph(lib_state)
    builder.add_node("agent", agent)
    builder.add_edge(start, "agent")
    return builder.compile()


@pytest.mark.parametrize("tags", [None, ["nostream"]], ids=["plain", "nostream"])
def test_non_streaming_model_and_nostream_tag_match_langgraph(tags) -> None:
    from langgraph.graph import START as LG_START
    from langgraph.graph import MessagesState as LGMessagesState
    from langgraph.graph import StateGraph as LGStateGraph

    def run(graph) -> list:
        return [summary(c)[:3] for c in graph.stream({"messages": "hi"}, stream_mode="messages")]

    expected = run(_non_streaming_graph(LGStateGraph, LGMessagesState, LG_START, tags))
    actual = run(_non_streaming_graph(StateGraph, MessagesState, START, tags))
    assert actual == expected
    assert ("AIMessage", "extra", "extra") in actual


def test_messages_with_other_modes_are_tagged_tuples() -> None:
    graph = build_agent(
        graphpool_lib(), StreamingFakeModel(messages=iter(script())), make_tools(ToolLog())
    )
    chunks = list(graph.stream(QUESTION, stream_mode=["updates", "messages"]))
    modes = [mode for mode, _ in chunks]
    assert set(modes) == {"updates", "messages"}
    # a node's messages come before its update
    first_update = modes.index("updates")
    assert modes[:first_update] and set(modes[:first_update]) == {"messages"}


def test_node_messages_already_in_the_state_are_not_repeated() -> None:
    class S(TypedDict):
        messages: Annotated[list, operator.add]

    def echo(state: dict) -> dict:
        return {"messages": [*state["messages"], AIMessage("new", id="n1")]}

    builder = StateGraph(S)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    out = list(
        builder.compile().stream(
            {"messages": [HumanMessage("old", id="o1")]}, stream_mode="messages"
        )
    )
    assert [m.id for m, _ in out] == ["n1"]


class _SpacedTokens(GenericFakeChatModel):
    """Streams three tokens 0.4 s apart (1.2 s in all)."""

    async def _astream(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        for i in range(3):
            await asyncio.sleep(0.4)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=str(i)))
            if run_manager:
                await run_manager.on_llm_new_token(str(i), chunk=chunk)
            yield chunk


def _spaced_graph(lib_graph, timeout_policy):
    model = _SpacedTokens(messages=iter([]))

    async def call(state):
        return {"messages": [await model.ainvoke(state["messages"])]}

    g = lib_graph.StateGraph(lib_graph.MessagesState)
    g.add_node("call", call, timeout=timeout_policy)
    g.add_edge(lib_graph.START, "call")
    return g.compile()


async def _tokens(graph) -> list:
    chunks = graph.astream({"messages": []}, stream_mode="messages")
    return [m.content async for m, _ in chunks if m.content]


@pytest.mark.parametrize("lib", [graphpool_lib, langgraph_lib], ids=["graphpool", "langgraph"])
def test_streamed_tokens_refresh_an_auto_idle_timeout(lib) -> None:
    # each gap (0.4 s) is under the idle limit, the whole call (1.2 s) is not
    types = pytest.importorskip(f"{lib.__name__.removesuffix('_lib')}.types")
    graph = _spaced_graph(lib(), types.TimeoutPolicy(idle_timeout=0.8))
    assert asyncio.run(_tokens(graph)) == ["0", "1", "2"]


def test_tokens_do_not_refresh_a_heartbeat_only_idle_timeout() -> None:
    from graphpool.errors import NodeTimeoutError
    from graphpool.types import TimeoutPolicy

    policy = TimeoutPolicy(idle_timeout=0.8, refresh_on="heartbeat")
    with pytest.raises(NodeTimeoutError):
        asyncio.run(_tokens(_spaced_graph(graphpool_lib(), policy)))
