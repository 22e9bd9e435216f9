"""A chat graph for the server's messages stream tests (needs langchain-core)."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from graphpool.graph import END, START, MessagesState, StateGraph


def reply(state: MessagesState) -> MessagesState:
    model = GenericFakeChatModel(messages=iter([AIMessage("hello there friend", id="ai-1")]))
    return {"messages": [model.invoke(state["messages"])]}


def _chat() -> StateGraph:
    builder = StateGraph(MessagesState)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder


chat = _chat().compile()
