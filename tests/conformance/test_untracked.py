"""Keys annotated with LangGraph's ``UntrackedValue`` live in the run only: nodes
and ``Send`` see them, the output shows them, no checkpoint keeps them."""

import operator
import threading
from typing import Annotated, TypedDict

import pytest
from langgraph.channels.untracked_value import UntrackedValue

pytestmark = pytest.mark.timeout(30)


class Handle:
    """Not serialisable (a lock), like a live client."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()


class State(TypedDict):
    log: Annotated[list, operator.add]
    handle: Annotated[Handle, UntrackedValue]
    note: Annotated[str, UntrackedValue]


def _graph(lib):
    g = lib.StateGraph(State)
    g.add_node("open", lambda s: {"log": ["open"], "handle": Handle("h1"), "note": "n1"})
    g.add_node(
        "use",
        lambda s: {"log": [f"{s['handle'].name}/{s['note']}"], "handle": Handle("h2")},
    )
    g.add_edge(lib.START, "open")
    g.add_conditional_edges("open", lambda s: [lib.Send("use", dict(s))], ["use"])
    return g.compile(checkpointer=lib.MemorySaver())


def test_untracked_keys_are_used_but_never_saved(lib, langgraph_lib) -> None:
    def run(which):
        graph = _graph(which)
        config = {"configurable": {"thread_id": "t"}}
        out = graph.invoke({"log": []}, config)
        saved = graph.get_state(config).values
        history = [sorted(s.values) for s in graph.get_state_history(config)]
        return out["log"], out["handle"].name, out["note"], saved, history

    assert run(lib) == run(langgraph_lib)
