"""Graph construction: invalid graphs that must fail at build / compile
time, and odd-but-valid shapes.

For build errors only "raised at build time" and "is it a ValueError" are
compared; LangGraph raises ValueError for all of them except a non-callable
node (TypeError).
"""

from typing import TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class S(TypedDict):
    x: int


def _node(state):
    return {"x": state["x"] + 1}


def _graph_with_a(lib):
    g = lib.StateGraph(S)
    g.add_node("a", _node)
    return g


@case(expect="build_error", build_value_error=True)
def case_build_edge_to_unknown_node(lib):
    g = _graph_with_a(lib)
    g.add_edge(lib.START, "a")
    g.add_edge("a", "nowhere")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_edge_from_unknown_node(lib):
    g = _graph_with_a(lib)
    g.add_edge(lib.START, "a")
    g.add_edge("ghost", "a")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_no_entry_point(lib):
    g = _graph_with_a(lib)
    g.add_edge("a", lib.END)
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_empty_graph(lib):
    return Scenario(lib.StateGraph(S).compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_duplicate_node(lib):
    g = _graph_with_a(lib)
    g.add_node("a", _node)
    g.add_edge(lib.START, "a")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_reserved_node_name(lib):
    g = lib.StateGraph(S)
    g.add_node(lib.END, _node)
    g.add_edge(lib.START, lib.END)
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_edge_from_end(lib):
    g = _graph_with_a(lib)
    g.add_edge(lib.START, "a")
    g.add_edge(lib.END, "a")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_edge_to_start(lib):
    g = _graph_with_a(lib)
    g.add_edge(lib.START, "a")
    g.add_edge("a", lib.START)
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_path_map_unknown_target(lib):
    g = _graph_with_a(lib)
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("a", lambda s: "go", {"go": "missing", "stop": lib.END})
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_conditional_from_unknown_node(lib):
    g = _graph_with_a(lib)
    g.add_edge(lib.START, "a")
    g.add_conditional_edges("ghost", lambda s: "a")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_join_with_unknown_source(lib):
    g = _graph_with_a(lib)
    g.add_node("c", _node)
    g.add_edge(lib.START, "a")
    g.add_edge(["a", "ghost"], "c")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_reserved_character_in_name(lib):
    g = lib.StateGraph(S)
    g.add_node("left|right", _node)
    g.add_edge(lib.START, "left|right")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=True)
def case_build_empty_sequence(lib):
    g = _graph_with_a(lib)
    g.add_sequence([])
    g.add_edge(lib.START, "a")
    return Scenario(g.compile(), {"x": 0})


@case(expect="build_error", build_value_error=False)
def case_build_node_not_callable(lib):
    g = lib.StateGraph(S)
    g.add_node("a", 42)
    g.add_edge(lib.START, "a")
    return Scenario(g.compile(), {"x": 0})


@case()
def case_graph_without_nodes(lib):
    # START -> END is a valid graph: the output is the input
    g = lib.StateGraph(S)
    g.add_edge(lib.START, lib.END)
    return Scenario(g.compile(), {"x": 3})


@case()
def case_unreachable_node_never_runs(lib):
    g = _graph_with_a(lib)
    g.add_node("orphan", lambda s: {"x": -100})
    g.add_edge(lib.START, "a")
    g.add_edge("a", lib.END)
    return Scenario(g.compile(), {"x": 0})


@case()
def case_join_edge_into_end(lib):
    g = _graph_with_a(lib)
    g.add_node("b", lambda s: None)
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_edge(["a", "b"], lib.END)
    return Scenario(g.compile(), {"x": 0})
