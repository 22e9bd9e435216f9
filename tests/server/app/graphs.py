"""Graphs the server contract tests serve (see tests/server/conftest.py).

``GRAPHPOOL_TEST_LIBRARY=langgraph`` builds them with LangGraph, for ``langgraph
dev`` as the reference (tests/server/test_reference.py).
"""

from __future__ import annotations

import operator
import os
import threading
import time
from typing import Annotated

from typing_extensions import TypedDict

if os.environ.get("GRAPHPOOL_TEST_LIBRARY") == "langgraph":  # langgraph dev, the reference
    from langgraph.config import get_stream_writer
    from langgraph.graph import END, START, StateGraph
    from langgraph.runtime import Runtime
    from langgraph.types import interrupt
else:
    from graphpool.config import get_stream_writer
    from graphpool.graph import END, START, StateGraph
    from graphpool.runtime import Runtime
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


# For the restart test: each node notes what it did in a tally file; "later" waits
# until the test creates the "go" file (the test kills the server meanwhile).


def _note(line: str) -> None:
    with open(os.path.join(os.environ["GRAPHPOOL_TEST_DIR"], "tally"), "a") as tally:
        tally.write(line + "\n")


def early(state: State) -> State:
    _note("early")
    return {"items": ["early"]}


def later(state: State) -> State:
    _note(f"later waiting {os.getpid()}")
    go = os.path.join(os.environ["GRAPHPOOL_TEST_DIR"], "go")
    deadline = time.monotonic() + 30
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.05)
    _note("later done")
    return {"items": ["later"]}


def _crash() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("early", early)
    builder.add_node("later", later)
    builder.add_edge(START, "early")
    builder.add_edge("early", "later")
    builder.add_edge("later", END)
    return builder


crash = _crash().compile()


# A parent whose node is a compiled subgraph (for stream_subgraphs).
def _child() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("inner", second)
    builder.add_edge(START, "inner")
    builder.add_edge("inner", END)
    return builder


def _nested() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("outer", first)
    builder.add_node("child", _child().compile())
    builder.add_edge(START, "outer")
    builder.add_edge("outer", "child")
    builder.add_edge("child", END)
    return builder


nested = _nested().compile()


# Reads the run's context (the assistant's, then the run's own keys over it).
def greet(state: State, runtime: Runtime) -> State:
    return {"answer": f"{runtime.context['greeting']} {runtime.context['name']}"}


def _ctx() -> StateGraph:
    builder = StateGraph(State)
    builder.add_node("greet", greet)
    builder.add_edge(START, "greet")
    builder.add_edge("greet", END)
    return builder


ctx = _ctx().compile()
