"""The spec's seed graph with 50 ms branches, as ``bench_server.py`` serves it.

``SEED_LIBRARY=langgraph`` builds the same graph with LangGraph itself, for
``langgraph dev`` (``bench_server.py --langgraph-dev``).
"""

from __future__ import annotations

import operator
import os
import time
from typing import Annotated

from typing_extensions import TypedDict

if os.environ.get("SEED_LIBRARY") == "langgraph":
    from langgraph.graph import END, StateGraph
else:
    from graphpool import END, StateGraph


class State(TypedDict):
    results: Annotated[list, operator.add]


def start(state: State) -> State:
    return {"results": []}


def branch(name: str):  # type: ignore[no-untyped-def]
    def run(state: State) -> State:
        time.sleep(0.05)
        return {"results": [name]}

    return run


def collect(state: State) -> State:
    return {"results": [f"Collected: {', '.join(sorted(state['results']))}"]}


builder = StateGraph(State)
builder.add_node("start", start)
for name in "ABC":
    builder.add_node(name, branch(name))
    builder.add_edge("start", name)
    builder.add_edge(name, "collect")
builder.add_node("collect", collect)
builder.set_entry_point("start")
builder.add_edge("collect", END)
graph = builder.compile()
