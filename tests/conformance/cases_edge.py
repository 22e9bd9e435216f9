"""Edge semantics that are easy to get subtly wrong: what routers and
parallel nodes see, unknown keys / destinations (LangGraph is lenient and
ignores several of them), join barriers inside loops."""

import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class XY(TypedDict):
    x: int
    y: int
    log: Annotated[list, operator.add]


def _say(word):
    def node(state):
        return {"log": [word]}

    return node


@case()
def case_router_sees_own_writes_not_siblings(lib):
    # the router after "a" sees a's write to x but not sibling b's write to y
    def route(state):
        return "saw_both" if (state["x"], state["y"]) == (1, 2) else "saw_own"

    g = lib.StateGraph(XY)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", lambda s: {"y": 2})
    g.add_node("saw_both", _say("saw_both"))
    g.add_node("saw_own", lambda s: {"log": [f"saw_own x={s['x']} y={s['y']}"]})
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_conditional_edges("a", route, ["saw_both", "saw_own"])
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case()
def case_parallel_nodes_see_same_snapshot(lib):
    def reader(name):
        def node(state):
            return {"log": [f"{name} saw {len(state['log'])} x={state['x']}"]}

        return node

    g = lib.StateGraph(XY)
    g.add_node("seed", lambda s: {"x": 5, "log": ["seed"]})
    g.add_node("bump", lambda s: {"x": s["x"] + 1, "log": ["bump"]})
    g.add_node("r1", reader("r1"))
    g.add_node("r2", reader("r2"))
    g.add_edge(lib.START, "seed")
    for name in ("bump", "r1", "r2"):
        g.add_edge("seed", name)
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case()
def case_node_returns_unknown_keys(lib):
    # keys outside the schema are dropped, also from the updates stream
    g = lib.StateGraph(XY)
    g.add_node("mixed", lambda s: {"x": 1, "not_in_schema": 5})
    g.add_node("only_unknown", lambda s: {"zzz": 1})
    g.add_edge(lib.START, "mixed")
    g.add_edge("mixed", "only_unknown")
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case()
def case_command_update_unknown_key_and_tuples(lib):
    # Command.update may be a list of (key, value) pairs; unknown keys drop
    def first(state):
        return lib.Command(goto="second", update={"x": 1, "qq": 3})

    def second(state):
        return lib.Command(goto="third", update=[("y", 7), ("log", ["pairs"])])

    g = lib.StateGraph(XY)
    g.add_node("first", first)
    g.add_node("second", second)
    g.add_node("third", lambda s: None)
    g.add_edge(lib.START, "first")
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case(
    graphpool_expect="InvalidUpdateError",
    why="graphpool raises InvalidRouteError for a route to an unknown node; LangGraph ignores it",
)
def case_command_goto_unknown_node_ignored(lib):
    # LangGraph only logs "wrote to unknown channel" and the run ends
    g = lib.StateGraph(XY)
    g.add_node("a", lambda s: lib.Command(goto="nowhere", update={"x": 9}))
    g.add_edge(lib.START, "a")
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case(
    graphpool_expect="InvalidUpdateError",
    why="graphpool raises InvalidRouteError for a route to an unknown node; LangGraph ignores it",
)
def case_conditional_unknown_destination_ignored(lib):
    # without a path_map an unknown destination is ignored, not an error
    g = lib.StateGraph(XY)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", _say("b"))
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("a", lambda s: ["nowhere", "b"])
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case(
    graphpool_expect="InvalidUpdateError",
    why="graphpool raises InvalidRouteError for a route to an unknown node; LangGraph ignores it",
)
def case_send_to_unknown_node_ignored(lib):
    g = lib.StateGraph(XY)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", _say("b"))
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("a", lambda s: [lib.Send("nowhere", {}), lib.Send("b", {})])
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case(expect="KeyError", graphpool_expect="InvalidUpdateError")
def case_path_map_missing_key(lib):
    g = lib.StateGraph(XY)
    g.add_node("a", lambda s: {"x": 1})
    g.add_node("b", _say("b"))
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("a", lambda s: "unmapped", {"mapped": "b"})
    return Scenario(g.compile(), {"x": 0, "y": 0}, error_mentions=("unmapped",))


@case(expect="ValueError", graphpool_expect="InvalidUpdateError")
def case_conditional_returns_none(lib):
    g = lib.StateGraph(XY)
    g.add_node("a", lambda s: {"x": 1})
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("a", lambda s: None)
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case()
def case_join_barrier_inside_loop(lib):
    # "a" loops three times, "b" runs once: the join [a, b] -> c fires once,
    # and a's later runs do not re-trigger it without b
    def a(state):
        return {"x": state["x"] + 1, "log": [f"a{state['x']}"]}

    g = lib.StateGraph(XY)
    g.add_node("a", a)
    g.add_node("b", _say("b"))
    g.add_node("c", _say("c"))
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_conditional_edges("a", lambda s: "a" if s["x"] < 3 else lib.END, ["a", lib.END])
    g.add_edge(["a", "b"], "c")
    return Scenario(g.compile(), {"x": 0, "y": 0})


@case()
def case_join_waits_for_slow_branch_then_refires(lib):
    # b -> b2 -> b3 and a: the join [a, b3] fires once both have run; a node
    # reached twice via plain edges runs again on each arrival
    g = lib.StateGraph(XY)
    for name in ("a", "b", "b2", "b3", "j", "plain"):
        g.add_node(name, _say(name))
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_edge("b", "b2")
    g.add_edge("b2", "b3")
    g.add_edge(["a", "b3"], "j")
    g.add_edge("a", "plain")
    g.add_edge("b2", "plain")
    return Scenario(g.compile(), {"x": 0, "y": 0})
