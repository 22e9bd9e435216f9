"""Fan-out / fan-in, join edges, concurrent writes, exceptions in nodes."""

import operator
import time
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Log(TypedDict):
    topic: str
    log: Annotated[list, operator.add]


class Tally(TypedDict):
    total: Annotated[int, operator.add]
    log: Annotated[list, operator.add]


class Plain(TypedDict):
    value: int
    log: Annotated[list, operator.add]


class NodeFailure(Exception):
    """Custom exception raised from inside nodes."""


def _say(word, delay=0.0):
    def node(state):
        if delay:
            time.sleep(delay)
        return {"log": [word]}

    return node


@case()
def case_fan_out_fan_in_demo(lib):
    # the seed demo: start -> A, B, C -> collect -> END.  The slowest branch
    # finishes first-to-last in reverse, yet the reducer sees writes in
    # LangGraph's deterministic order (sorted by node name).
    g = lib.StateGraph(Log)
    g.add_node("C", _say("C"))
    g.add_node("A", _say("A", 0.03))
    g.add_node("B", _say("B", 0.015))

    def collect(state):
        return {"log": [f"collected {len(state['log'])} for {state['topic']}"]}

    g.add_node("collect", collect)
    for name in ("C", "A", "B"):
        g.add_edge(lib.START, name)
        g.add_edge(name, "collect")
    g.add_edge("collect", lib.END)
    return Scenario(g.compile(), {"topic": "demo"})


@case()
def case_fan_out_write_order_by_name(lib):
    # node names added in non-sorted order, with delays inverse to name order
    g = lib.StateGraph(Log)
    for name, delay in (("zeta", 0.0), ("alpha", 0.03), ("mid", 0.015)):
        g.add_node(name, _say(name, delay))
    g.add_node("entry", _say("entry"))
    g.add_edge(lib.START, "entry")
    for name in ("mid", "zeta", "alpha"):
        g.add_edge("entry", name)
        g.add_edge(name, lib.END)
    return Scenario(g.compile(), {"topic": "order"})


@case()
def case_fan_out_int_reducer(lib):
    def add(amount):
        def node(state):
            return {"total": amount, "log": [amount]}

        return node

    g = lib.StateGraph(Tally)
    for i, amount in enumerate((5, 7, 11, 13)):
        g.add_node(f"add{i}", add(amount))
        g.add_edge(lib.START, f"add{i}")

    def report(state):
        return {"log": [f"total={state['total']}"]}

    g.add_node("report", report)
    g.add_edge([f"add{i}" for i in range(4)], "report")
    g.add_edge("report", lib.END)
    return Scenario(g.compile(), {"total": 100})


def _uneven(lib, join):
    # a -> a2 -> c and b -> c.  With separate edges c runs once per arriving
    # branch (twice); with a join edge it waits for both and runs once.
    g = lib.StateGraph(Log)
    g.add_node("a", _say("a"))
    g.add_node("a2", _say("a2"))
    g.add_node("b", _say("b"))
    g.add_node("c", _say("c"))
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_edge("a", "a2")
    if join:
        g.add_edge(["a2", "b"], "c")
    else:
        g.add_edge("a2", "c")
        g.add_edge("b", "c")
    g.add_edge("c", lib.END)
    return Scenario(g.compile(), {"topic": "join" if join else "separate"})


@case()
def case_uneven_branches_separate_edges(lib):
    return _uneven(lib, join=False)


@case()
def case_uneven_branches_join_edge(lib):
    return _uneven(lib, join=True)


@case()
def case_join_plus_separate_edge(lib):
    # c has a join on [a, b] and a plain edge from d: it runs when d finishes
    # (step 1) and again once both a and b are done
    g = lib.StateGraph(Log)
    for name in ("a", "a2", "b", "c", "d"):
        g.add_node(name, _say(name))
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_edge(lib.START, "d")
    g.add_edge("a", "a2")
    g.add_edge(["a2", "b"], "c")
    g.add_edge("d", "c")
    g.add_edge("c", lib.END)
    return Scenario(g.compile(), {"topic": "mixed"})


@case()
def case_diamond_twice(lib):
    # two diamonds in a row: s -> (l, r) -> m -> (l2, r2) -> e
    g = lib.StateGraph(Log)
    for name in ("s", "l", "r", "m", "l2", "r2", "e"):
        g.add_node(name, _say(name))
    g.add_edge(lib.START, "s")
    g.add_edge("s", "l")
    g.add_edge("s", "r")
    g.add_edge("l", "m")
    g.add_edge("r", "m")
    g.add_edge("m", "r2")
    g.add_edge("m", "l2")
    g.add_edge(["l2", "r2"], "e")
    g.add_edge("e", lib.END)
    return Scenario(g.compile(), {"topic": "diamond"})


@case(expect="InvalidUpdateError")
def case_concurrent_write_without_reducer(lib):
    g = lib.StateGraph(Plain)
    g.add_node("left", lambda s: {"value": 1})
    g.add_node("right", lambda s: {"value": 2})
    g.add_edge(lib.START, "left")
    g.add_edge(lib.START, "right")
    g.add_edge("left", lib.END)
    g.add_edge("right", lib.END)
    return Scenario(g.compile(), {"value": 0}, error_mentions=("value",))


@case(expect="InvalidUpdateError")
def case_concurrent_write_after_good_step(lib):
    # first step succeeds (values chunks are streamed), second one conflicts
    g = lib.StateGraph(Plain)
    g.add_node("first", lambda s: {"value": 10, "log": ["first"]})
    g.add_node("left", lambda s: {"value": s["value"] + 1, "log": ["left"]})
    g.add_node("right", lambda s: {"value": s["value"] + 2, "log": ["right"]})
    g.add_edge(lib.START, "first")
    g.add_edge("first", "left")
    g.add_edge("first", "right")
    return Scenario(g.compile(), {"value": 0}, error_mentions=("value",))


@case(expect="InvalidUpdateError")
def case_node_returns_string(lib):
    g = lib.StateGraph(Plain)
    g.add_node("ok", lambda s: {"log": ["ok"]})
    g.add_node("bad", lambda s: "not a dict")
    g.add_edge(lib.START, "ok")
    g.add_edge("ok", "bad")
    g.add_edge("bad", lib.END)
    return Scenario(g.compile(), {"value": 1})


@case(expect="InvalidUpdateError")
def case_node_returns_list(lib):
    g = lib.StateGraph(Plain)
    g.add_node("bad", lambda s: [("value", 3)])
    g.add_edge(lib.START, "bad")
    g.add_edge("bad", lib.END)
    return Scenario(g.compile(), {"value": 1})


@case(expect="ValueError")
def case_node_raises_value_error(lib):
    def boom(state):
        raise ValueError("bad value in node")

    g = lib.StateGraph(Plain)
    g.add_node("fine", lambda s: {"value": 2, "log": ["fine"]})
    g.add_node("boom", boom)
    g.add_edge(lib.START, "fine")
    g.add_edge("fine", "boom")
    g.add_edge("boom", lib.END)
    return Scenario(g.compile(), {"value": 1}, error_mentions=("bad value in node",))


@case(expect="KeyError")
def case_node_raises_key_error(lib):
    def lookup(state):
        return {"value": state["missing_key"]}

    g = lib.StateGraph(Plain)
    g.add_node("lookup", lookup)
    g.add_edge(lib.START, "lookup")
    g.add_edge("lookup", lib.END)
    return Scenario(g.compile(), {"value": 1}, error_mentions=("missing_key",))


@case(expect="NodeFailure")
def case_custom_error_in_parallel_branch(lib):
    # one of three parallel branches fails; the slow sibling is still
    # running when the error happens
    def explode(state):
        raise NodeFailure("branch exploded")

    g = lib.StateGraph(Log)
    g.add_node("slow", _say("slow", 0.03))
    g.add_node("explode", explode)
    g.add_node("fast", _say("fast"))
    g.add_node("after", _say("after"))
    for name in ("slow", "explode", "fast"):
        g.add_edge(lib.START, name)
        g.add_edge(name, "after")
    g.add_edge("after", lib.END)
    return Scenario(g.compile(), {"topic": "boom"}, error_mentions=("branch exploded",))


@case(expect="ZeroDivisionError")
def case_error_in_later_step(lib):
    def divide(state):
        return {"value": 1 // (len(state["log"]) - 2)}

    g = lib.StateGraph(Plain)
    g.add_node("one", _say("one"))
    g.add_node("two", _say("two"))
    g.add_node("divide", divide)
    g.add_sequence([("s1", _say("s1")), ("s2", _say("s2"))])
    g.add_edge(lib.START, "one")
    g.add_edge(lib.START, "two")
    g.add_edge(["one", "two"], "divide")
    g.add_edge("divide", "s1")
    g.add_edge("s2", lib.END)
    return Scenario(g.compile(), {"value": 0})
