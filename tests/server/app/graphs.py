"""Graphs the server contract tests serve (see tests/server/conftest.py)."""

from __future__ import annotations

import operator
import os
import threading
import time
from typing import Annotated

from typing_extensions import TypedDict

from graphpool.config import get_stream_writer
from graphpool.graph import END, START, StateGraph
from graphpool.types import interrupt


class State(TypedDict, total=False):
    items: Annotated[list[str], operator.add]
    answer: str


def first(state: State) -> State:
    get_stream_writer()({"progress": "first"})
    return {"items": [os.environ.get("GRAPHPOOL_TEST_GREETING", "?")]}


def second(state: State) -> State:
    return {"items": ["second"]}


def _chain() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    return builder


chain = _chain()


def question(state: State) -> State:
    return {"answer": interrupt({"question": "name?"})}


def _ask() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("question", question)
    builder.add_node("second", second)
    builder.add_edge(START, "question")
    builder.add_edge("question", "second")
    builder.add_edge("second", END)
    return builder


ask = _ask().compile()


def nap(state: State) -> State:
    time.sleep(float(os.environ.get("GRAPHPOOL_TEST_NAP", "0.5")))
    return {"items": ["slept"]}


def _slow() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("nap", nap)
    builder.add_edge(START, "nap")
    builder.add_edge("nap", END)
    return builder


slow = _slow().compile()


def boom(state: State) -> State:
    raise KeyError("boom")


def _fail() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("boom", boom)
    builder.add_edge(START, "boom")
    builder.add_edge("boom", END)
    return builder


fail = _fail().compile()


# Three runs meet here: only if the server runs them at once (a run alone waits 20 s
# and fails with BrokenBarrierError).
MEETING = threading.Barrier(3, timeout=20)


def gather(state: State) -> State:
    MEETING.wait()
    return {"items": ["met"]}


def _meet() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("gather", gather)
    builder.add_edge(START, "gather")
    builder.add_edge("gather", END)
    return builder


meet = _meet().compile()
