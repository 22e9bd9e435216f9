"""Deterministic langchain-core chat models and a ReAct agent builder for the agent tests.

``build_agent(lib, ...)`` builds the classic ReAct graph (model node, tool node,
``tools_condition``) from a namespace, so one builder serves LangGraph and graphpool.
"""

from __future__ import annotations

import json
import re
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_core.tools import tool

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ToolCallingFakeModel(GenericFakeChatModel):
    """``GenericFakeChatModel`` that accepts ``bind_tools`` (and ignores the tools).

    Without a streaming callback it answers through ``_generate``: the scripted
    ``AIMessage`` as is, tool calls included.
    """

    def bind_tools(self, tools: Any, **kwargs: Any) -> ToolCallingFakeModel:
        return self


class StreamingFakeModel(ToolCallingFakeModel):
    """Streams the scripted message word by word, then its tool calls as one chunk.

    (``GenericFakeChatModel`` drops tool calls when it streams.) ``before_token``,
    if set, is called before each token is handed out.
    """

    before_token: Any = None

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = next(self.messages)
        if isinstance(message, str):
            message = AIMessage(content=message)
        words = str(message.content).split(" ")
        for i, word in enumerate(words):
            text = word if i == len(words) - 1 else word + " "
            if self.before_token is not None:
                self.before_token(i)
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=text, id=message.id))
            if run_manager:
                run_manager.on_llm_new_token(text, chunk=chunk)
            yield chunk
        if message.tool_calls:
            calls = [
                {"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                for i, c in enumerate(message.tool_calls)
            ]
            chunk = ChatGenerationChunk(
                message=AIMessageChunk(content="", id=message.id, tool_call_chunks=calls)
            )
            if run_manager:
                run_manager.on_llm_new_token("", chunk=chunk)
            yield chunk


def script() -> list[AIMessage]:
    """First a request for two tools at once, then the final answer."""
    return [
        AIMessage(
            content="Looking both up.",
            id="ai-1",
            tool_calls=[
                {"name": "weather", "args": {"city": "Paris"}, "id": "call-weather"},
                {"name": "population", "args": {"city": "Paris"}, "id": "call-population"},
            ],
        ),
        AIMessage(content="Paris: sunny, 2.1 million people.", id="ai-2"),
    ]


class ToolLog:
    """Records when each tool ran; ``barrier`` (if set) makes both tools meet."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.barrier = barrier
        self.spans: dict[str, tuple[float, float, str]] = {}

    def run(self, name: str, result: Any) -> Any:
        start = time.monotonic()
        if self.barrier is not None:
            self.barrier.wait()  # breaks (BrokenBarrierError) unless both tools overlap
        self.spans[name] = (start, time.monotonic(), threading.current_thread().name)
        return result


def make_tools(log: ToolLog) -> list[Any]:
    @tool
    def weather(city: str) -> str:
        """The weather in a city."""
        return log.run("weather", f"sunny in {city}")

    @tool
    def population(city: str) -> dict:
        """How many people live in a city."""
        return log.run("population", {"city": city, "millions": 2.1})

    return [weather, population]


def build_agent(
    lib: types.SimpleNamespace,
    model: Any,
    tools: list[Any],
    *,
    agent: Callable[[Any], Any] | None = None,
) -> Any:
    """The classic ReAct agent: ``agent`` (the model) and ``tools``, routed by tools_condition."""
    bound = model.bind_tools(tools)

    def call_model(state: dict) -> dict:
        return {"messages": [bound.invoke(state["messages"])]}

    builder = lib.StateGraph(lib.MessagesState)
    builder.add_node("agent", agent or call_model)
    builder.add_node("tools", lib.ToolNode(tools))
    builder.add_edge(lib.START, "agent")
    builder.add_conditional_edges("agent", lib.tools_condition)
    builder.add_edge("tools", "agent")
    return builder.compile()


def langgraph_lib() -> types.SimpleNamespace:
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode, tools_condition

    return types.SimpleNamespace(
        StateGraph=StateGraph,
        START=START,
        MessagesState=MessagesState,
        ToolNode=ToolNode,
        tools_condition=tools_condition,
    )


def graphpool_lib() -> types.SimpleNamespace:
    from graphpool.graph import START, MessagesState, StateGraph
    from graphpool.prebuilt import ToolNode, tools_condition

    return types.SimpleNamespace(
        StateGraph=StateGraph,
        START=START,
        MessagesState=MessagesState,
        ToolNode=ToolNode,
        tools_condition=tools_condition,
    )


def comparable(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """Messages as plain dicts; ids that a library drew at random become "<uuid>".

    Both libraries give id-less messages a uuid4 (``add_messages``); those are
    checked to be distinct and replaced, every other field is compared as is.
    """
    random_ids = [m.id for m in messages if m.id and UUID_RE.match(m.id)]
    assert len(random_ids) == len(set(random_ids)), "auto ids must be unique"
    out = []
    for message in messages:
        dump = {"type": type(message).__name__, **message.model_dump()}
        if dump.get("id") and UUID_RE.match(dump["id"]):
            dump["id"] = "<uuid>"
        out.append(dump)
    return out
