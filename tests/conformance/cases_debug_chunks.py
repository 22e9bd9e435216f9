"""Checkpoint chunks (``checkpoints`` mode, ``debug`` ``checkpoint`` events) of
graphs with subgraphs: the addresses of subgraph checkpoints, each subgraph
task's ``state``, and ``parent_config`` under ``durability="exit"``.

Checkpoint and task ids are each library's own: scripts replace every id with
its order of first appearance (``#0``, ``#1``, ...), inside namespaces and
``checkpoint_map`` keys too, so the shapes compare.
"""

import itertools
import operator
import re
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Log(TypedDict):
    log: Annotated[list, operator.add]


def _say(word):
    def node(state):
        return {"log": [word]}

    return node


def _chain(lib, *names, sub=None):
    """A graph running ``names`` in order, then the subgraph ``sub = (name, graph)``."""
    g = lib.StateGraph(Log)
    for name in names:
        g.add_node(name, _say(name))
    if sub is not None:
        g.add_node(*sub)
        names = (*names, sub[0])
    g.add_edge(lib.START, names[0])
    for left, right in itertools.pairwise(names):
        g.add_edge(left, right)
    return g


class _Labels:
    """Every id in a structure replaced by its order of first appearance."""

    def __init__(self):
        self.seen = {}

    def _text(self, text):
        return _ID.sub(lambda m: f"#{self.seen.setdefault(m.group(), len(self.seen))}", text)

    def __call__(self, value):
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value


def _payloads(stream):
    """``(namespace, payload)`` of each debug ``checkpoint`` event, ids labelled."""
    label = _Labels()
    found = []
    for ns, event in stream:
        if event["type"] == "checkpoint":
            found.append(label([ns, event["payload"]]))
    return found


def _nested(lib, checkpointer):
    child = _chain(lib, "c_one", "c_two").compile()
    parent = _chain(lib, "p_one", sub=("p_two", child)).compile()
    return _chain(lib, "gp_one", sub=("gp_two", parent)).compile(checkpointer=checkpointer)


@case()
def case_debug_checkpoints_of_nested_subgraphs(lib):
    graph = _nested(lib, lib.MemorySaver())

    def script(graph):
        out = {}
        for durability in ("sync", "async", "exit"):
            config = {"configurable": {"thread_id": durability}}
            stream = graph.stream(
                {"log": []}, config, stream_mode="debug", subgraphs=True, durability=durability
            )
            out[durability] = _payloads(stream)
        return out

    return Scenario(graph, mode="script", script=script)


@case()
def case_exit_durability_checkpoints_name_the_first_parent(lib):
    graph = _chain(lib, "one", sub=("two", _chain(lib, "inner").compile())).compile(
        checkpointer=lib.MemorySaver()
    )

    def script(graph):
        config = {"configurable": {"thread_id": "t"}}
        runs = []
        for _ in range(3):  # a fresh thread, then one continued twice
            stream = graph.stream(
                {"log": ["x"]}, config, stream_mode="checkpoints", durability="exit"
            )
            runs.append(_Labels()([chunk["parent_config"] is None for chunk in stream]))
        history = [s.parent_config is None for s in graph.get_state_history(config)]
        return {"runs": runs, "history": history}

    return Scenario(graph, mode="script", script=script)
