"""Conditional edges, loops, the recursion limit, Send map-reduce."""

import itertools
import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Route(TypedDict):
    kind: str
    n: int
    log: Annotated[list, operator.add]


class MapReduce(TypedDict):
    items: list
    results: Annotated[list, operator.add]
    summary: str


def _say(word):
    def node(state):
        return {"log": [word]}

    return node


def _router_graph(lib, path_map_kind):
    g = lib.StateGraph(Route)
    g.add_node("classify", _say("classify"))
    g.add_node("small", _say("small"))
    g.add_node("large", _say("large"))
    g.add_edge(lib.START, "classify")

    if path_map_kind == "dict":

        def decide(state):
            return "lt10" if state["n"] < 10 else "ge10"

        g.add_conditional_edges("classify", decide, {"lt10": "small", "ge10": "large"})
    elif path_map_kind == "list":

        def decide(state):
            return "small" if state["n"] < 10 else "large"

        g.add_conditional_edges("classify", decide, ["small", "large"])
    else:

        def decide(state):
            return "small" if state["n"] < 10 else "large"

        g.add_conditional_edges("classify", decide)
    g.add_edge("small", lib.END)
    g.add_edge("large", lib.END)
    return g.compile()


@case()
def case_conditional_no_path_map(lib):
    return Scenario(_router_graph(lib, None), {"kind": "x", "n": 3})


@case()
def case_conditional_path_map_dict(lib):
    return Scenario(_router_graph(lib, "dict"), {"kind": "x", "n": 30})


@case()
def case_conditional_path_map_list(lib):
    return Scenario(_router_graph(lib, "list"), {"kind": "x", "n": 9})


@case()
def case_conditional_returns_list_of_nodes(lib):
    def pick(state):
        return ["beta", "alpha"] if state["kind"] == "both" else ["alpha"]

    g = lib.StateGraph(Route)
    g.add_node("root", _say("root"))
    g.add_node("alpha", _say("alpha"))
    g.add_node("beta", _say("beta"))
    g.add_node("tail", _say("tail"))
    g.add_edge(lib.START, "root")
    g.add_conditional_edges("root", pick)
    g.add_edge("alpha", "tail")
    g.add_edge("beta", "tail")
    g.add_edge("tail", lib.END)
    return Scenario(g.compile(), {"kind": "both", "n": 0})


@case()
def case_conditional_returns_end(lib):
    def maybe_stop(state):
        return lib.END if state["n"] > 0 else "extra"

    g = lib.StateGraph(Route)
    g.add_node("check", _say("check"))
    g.add_node("extra", _say("extra"))
    g.add_edge(lib.START, "check")
    g.add_conditional_edges("check", maybe_stop)
    g.add_edge("extra", lib.END)
    return Scenario(g.compile(), {"kind": "stop", "n": 1})


@case()
def case_conditional_path_map_to_end(lib):
    def verdict(state):
        return "done" if state["n"] >= 2 else "again"

    g = lib.StateGraph(Route)
    g.add_node("work", lambda s: {"n": s["n"] + 1, "log": [f"work{s['n']}"]})
    g.add_edge(lib.START, "work")
    g.add_conditional_edges("work", verdict, {"done": lib.END, "again": "work"})
    return Scenario(g.compile(), {"kind": "loop", "n": 0})


@case()
def case_set_conditional_entry_point(lib):
    def entry(state):
        return "upper" if state["kind"] == "up" else "lower"

    g = lib.StateGraph(Route)
    g.add_node("upper", lambda s: {"kind": s["kind"].upper(), "log": ["upper"]})
    g.add_node("lower", lambda s: {"kind": s["kind"].lower(), "log": ["lower"]})
    g.set_conditional_entry_point(entry, {"upper": "upper", "lower": "lower"})
    g.set_finish_point("upper")
    g.set_finish_point("lower")
    return Scenario(g.compile(), {"kind": "up", "n": 0})


@case()
def case_conditional_edges_from_start(lib):
    def fan(state):
        return [f"w{i}" for i in range(state["n"])]

    g = lib.StateGraph(Route)
    for i in range(4):
        g.add_node(f"w{i}", _say(f"w{i}"))
        g.add_edge(f"w{i}", lib.END)
    g.add_conditional_edges(lib.START, fan, [f"w{i}" for i in range(4)])
    return Scenario(g.compile(), {"kind": "start", "n": 3})


@case()
def case_conditional_and_static_edge_same_source(lib):
    # a node with both a static edge and a conditional edge: both fire
    g = lib.StateGraph(Route)
    g.add_node("hub", _say("hub"))
    g.add_node("always", _say("always"))
    g.add_node("sometimes", _say("sometimes"))
    g.add_edge(lib.START, "hub")
    g.add_edge("hub", "always")
    g.add_conditional_edges("hub", lambda s: "sometimes" if s["n"] else lib.END)
    g.add_edge("always", lib.END)
    g.add_edge("sometimes", lib.END)
    return Scenario(g.compile(), {"kind": "both", "n": 1})


@case()
def case_loop_until_counter_is_5(lib):
    def bump(state):
        return {"n": state["n"] + 1, "log": [state["n"] + 1]}

    g = lib.StateGraph(Route)
    g.add_node("bump", bump)
    g.add_node("finish", _say("finish"))
    g.add_edge(lib.START, "bump")
    g.add_conditional_edges("bump", lambda s: "bump" if s["n"] < 5 else "finish")
    g.add_edge("finish", lib.END)
    return Scenario(g.compile(), {"kind": "loop", "n": 0})


@case(expect="GraphRecursionError")
def case_infinite_loop_recursion_limit(lib):
    g = lib.StateGraph(Route)
    g.add_node("spin", lambda s: {"n": s["n"] + 1})
    g.add_edge(lib.START, "spin")
    g.add_edge("spin", "spin")
    return Scenario(g.compile(), {"kind": "spin", "n": 0}, {"recursion_limit": 5})


def _limit_chain(lib, length, limit):
    g = lib.StateGraph(Route)
    names = [f"c{i}" for i in range(length)]
    for name in names:
        g.add_node(name, _say(name))
    g.add_edge(lib.START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], lib.END)
    return Scenario(g.compile(), {"kind": "chain", "n": length}, {"recursion_limit": limit})


@case()
def case_chain_one_below_recursion_limit(lib):
    # 4 supersteps with recursion_limit=5: fine
    return _limit_chain(lib, 4, 5)


@case(expect="GraphRecursionError")
def case_chain_at_recursion_limit(lib):
    # 5 supersteps with recursion_limit=5: LangGraph raises, even though the
    # last node runs and the graph has nothing left to do
    return _limit_chain(lib, 5, 5)


@case(expect="GraphRecursionError")
def case_chain_above_recursion_limit(lib):
    return _limit_chain(lib, 6, 5)


@case(expect="GraphRecursionError")
def case_recursion_limit_1(lib):
    return _limit_chain(lib, 1, 1)


@case()
def case_send_map_reduce(lib):
    def plan(state):
        return {"summary": "planned"}

    def fan_out(state):
        return [lib.Send("worker", {"item": x}) for x in state["items"]]

    def worker(state):
        return {"results": [state["item"] * 10]}

    def reduce(state):
        return {"summary": f"sum={sum(state['results'])} n={len(state['results'])}"}

    g = lib.StateGraph(MapReduce)
    g.add_node("plan", plan)
    g.add_node("worker", worker)
    g.add_node("reduce", reduce)
    g.add_edge(lib.START, "plan")
    g.add_conditional_edges("plan", fan_out, ["worker"])
    g.add_edge("worker", "reduce")
    g.add_edge("reduce", lib.END)
    return Scenario(g.compile(), {"items": [3, 1, 2, 5, 4], "results": []})


@case()
def case_send_from_start_and_write_order(lib):
    # Send order (not completion order) decides reducer order
    import time

    def worker(state):
        time.sleep(0.01 * state["item"])
        return {"results": [state["item"]]}

    g = lib.StateGraph(MapReduce)
    g.add_node("worker", worker)
    g.add_conditional_edges(
        lib.START, lambda s: [lib.Send("worker", {"item": x}) for x in s["items"]], ["worker"]
    )
    g.add_edge("worker", lib.END)
    return Scenario(g.compile(), {"items": [3, 0, 2, 1]})


@case()
def case_send_mixed_with_node_names(lib):
    # pull tasks (plain node names) apply before push tasks (Send)
    class S(TypedDict):
        log: Annotated[list, operator.add]

    def route(state):
        return [
            lib.Send("w", {"log": ["w-first"]}),
            "zeta",
            lib.Send("w", {"log": ["w-second"]}),
            "alpha",
        ]

    g = lib.StateGraph(S)
    g.add_node("root", lambda s: {"log": ["root"]})
    g.add_node("w", lambda s: {"log": [f"w saw {s['log']}"]})
    g.add_node("zeta", lambda s: {"log": ["zeta"]})
    g.add_node("alpha", lambda s: {"log": ["alpha"]})
    g.add_edge(lib.START, "root")
    g.add_conditional_edges("root", route)
    return Scenario(g.compile(), {"log": []})


@case()
def case_send_empty_list(lib):
    # no Send objects: nothing runs after "plan", the graph ends
    g = lib.StateGraph(MapReduce)
    g.add_node("plan", lambda s: {"summary": "nothing to do"})
    g.add_node("worker", lambda s: {"results": [1]})
    g.add_edge(lib.START, "plan")
    g.add_conditional_edges(
        "plan", lambda s: [lib.Send("worker", {"item": x}) for x in s["items"]], ["worker"]
    )
    g.add_edge("worker", lib.END)
    return Scenario(g.compile(), {"items": []})


@case()
def case_conditional_returns_node_and_end(lib):
    # END inside a list of destinations is simply dropped
    g = lib.StateGraph(Route)
    g.add_node("root", _say("root"))
    g.add_node("leaf", _say("leaf"))
    g.add_edge(lib.START, "root")
    g.add_conditional_edges("root", lambda s: [lib.END, "leaf"])
    g.add_edge("leaf", lib.END)
    return Scenario(g.compile(), {"kind": "mix", "n": 0})


@case()
def case_recursion_limit_counts_supersteps(lib):
    # six parallel tasks in one superstep count once against the limit
    g = lib.StateGraph(Route)
    g.add_node("root", _say("root"))
    g.add_edge(lib.START, "root")
    for i in range(6):
        g.add_node(f"p{i}", _say(f"p{i}"))
        g.add_edge("root", f"p{i}")
    return Scenario(g.compile(), {"kind": "wide", "n": 0}, {"recursion_limit": 3})


@case()
def case_default_recursion_limit_is_not_25(lib):
    # no config: LangGraph 1.2's default limit is 10007 supersteps
    # (env LANGGRAPH_DEFAULT_RECURSION_LIMIT), not the 25 of older releases
    g = lib.StateGraph(Route)
    g.add_node("spin", lambda s: {"n": s["n"] + 1})
    g.add_edge(lib.START, "spin")
    g.add_conditional_edges("spin", lambda s: "spin" if s["n"] < 40 else lib.END)
    return Scenario(g.compile(), {"kind": "spin", "n": 0})


class Whole(TypedDict):
    n: Annotated[int, operator.add]
    label: str


class Note(TypedDict):
    note: str


class NoteAndN(TypedDict):
    n: Annotated[int, operator.add]
    note: str


@case()
def case_route_reads_the_state_its_parameter_declares(lib):
    # a route annotated with a state class reads that class's keys (a private
    # one included), not its source node's input
    seen = []

    def by_note(state: Note):
        seen.append(sorted(state))
        return "tail" if state["note"] == "go" else lib.END

    def by_whole(state: Whole):
        seen.append(sorted(state))
        return lib.END

    g = lib.StateGraph(Whole)
    g.add_node("head", lambda s: {"n": 1, "note": "go"})
    g.add_node("tail", lambda s: {"n": 10, "label": s["note"]}, input_schema=NoteAndN)
    g.add_edge(lib.START, "head")
    g.add_conditional_edges("head", by_note, ["tail", lib.END])
    g.add_conditional_edges("tail", by_whole, [lib.END])

    def script(graph):
        return [graph.invoke({"n": 0}), seen]

    return Scenario(g.compile(), mode="script", script=script)
