"""Linear graphs, builder conveniences, node return shapes, config access."""

import itertools
import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Counter(TypedDict):
    n: int
    log: Annotated[list, operator.add]


def _step(name, inc=1):
    def node(state):
        return {"n": state["n"] + inc, "log": [name]}

    node.__name__ = name
    return node


def _chain(lib, length, config=None):
    g = lib.StateGraph(Counter)
    names = [f"s{i}" for i in range(length)]
    for name in names:
        g.add_node(name, _step(name))
    g.add_edge(lib.START, names[0])
    for a, b in itertools.pairwise(names):
        g.add_edge(a, b)
    g.add_edge(names[-1], lib.END)
    return Scenario(g.compile(), {"n": 0}, config)


@case()
def case_chain_2(lib):
    return _chain(lib, 2)


@case()
def case_chain_5(lib):
    return _chain(lib, 5)


@case()
def case_chain_20(lib):
    return _chain(lib, 20)


@case()
def case_add_sequence_named(lib):
    g = lib.StateGraph(Counter)
    g.add_sequence([("first", _step("first")), ("second", _step("second", 10))])
    g.add_node("third", _step("third", 100))
    g.add_edge(lib.START, "first")
    g.add_edge("second", "third")
    g.add_edge("third", lib.END)
    return Scenario(g.compile(), {"n": 1})


@case()
def case_add_sequence_functions(lib):
    # names come from the functions' __name__
    def alpha(state):
        return {"n": state["n"] * 2, "log": ["alpha"]}

    def beta(state):
        return {"n": state["n"] + 3, "log": ["beta"]}

    def gamma(state):
        return {"log": [f"gamma saw {state['n']}"]}

    g = lib.StateGraph(Counter)
    g.add_sequence([alpha, beta, gamma])
    g.add_edge(lib.START, "alpha")
    g.add_edge("gamma", lib.END)
    return Scenario(g.compile(), {"n": 5})


@case()
def case_entry_and_finish_point(lib):
    g = lib.StateGraph(Counter)
    g.add_node("one", _step("one"))
    g.add_node("two", _step("two"))
    g.set_entry_point("one")
    g.add_edge("one", "two")
    g.set_finish_point("two")
    return Scenario(g.compile(), {"n": 40})


@case()
def case_add_node_by_function_name(lib):
    def increment(state):
        return {"n": state["n"] + 1, "log": ["increment"]}

    def double_it(state):
        return {"n": state["n"] * 2, "log": ["double_it"]}

    g = lib.StateGraph(Counter)
    g.add_node(increment)
    g.add_node(double_it)
    g.add_edge(lib.START, "increment")
    g.add_edge("increment", "double_it")
    g.add_edge("double_it", lib.END)
    return Scenario(g.compile(), {"n": 3})


@case()
def case_node_returns_none(lib):
    # updates stream shows {"quiet": None}; no values chunk for that step
    def quiet(state):
        return None

    g = lib.StateGraph(Counter)
    g.add_node("loud", _step("loud"))
    g.add_node("quiet", quiet)
    g.add_node("after", _step("after"))
    g.add_edge(lib.START, "loud")
    g.add_edge("loud", "quiet")
    g.add_edge("quiet", "after")
    g.add_edge("after", lib.END)
    return Scenario(g.compile(), {"n": 0})


@case()
def case_node_returns_empty_dict(lib):
    def nothing(state):
        return {}

    g = lib.StateGraph(Counter)
    g.add_node("nothing", nothing)
    g.add_node("after", _step("after"))
    g.add_edge(lib.START, "nothing")
    g.add_edge("nothing", "after")
    g.add_edge("after", lib.END)
    return Scenario(g.compile(), {"n": 7})


@case()
def case_node_returns_whole_state(lib):
    # returning the full state re-applies the reducer key: the log doubles
    def echo(state):
        return state

    g = lib.StateGraph(Counter)
    g.add_node("first", _step("first"))
    g.add_node("echo", echo)
    g.add_edge(lib.START, "first")
    g.add_edge("first", "echo")
    g.add_edge("echo", lib.END)
    return Scenario(g.compile(), {"n": 1, "log": ["in"]})


@case()
def case_node_reads_config(lib):
    def scale(state, config):
        factor = config["configurable"]["k"]
        return {"n": state["n"] * factor, "log": [f"k={factor}"]}

    g = lib.StateGraph(Counter)
    g.add_node("scale", scale)
    g.add_node("after", _step("after"))
    g.add_edge(lib.START, "scale")
    g.add_edge("scale", "after")
    g.add_edge("after", lib.END)
    return Scenario(g.compile(), {"n": 4}, {"configurable": {"k": 3}})


class Partial(TypedDict, total=False):
    a: int
    b: str
    c: list


@case()
def case_typeddict_total_false(lib):
    # keys never written do not show up in the output at all
    def set_b(state):
        return {"b": f"a was {state.get('a')}"}

    def read_c(state):
        return {"a": 0 if "c" in state else 1}

    g = lib.StateGraph(Partial)
    g.add_node("set_b", set_b)
    g.add_node("read_c", read_c)
    g.add_edge(lib.START, "set_b")
    g.add_edge("set_b", "read_c")
    g.add_edge("read_c", lib.END)
    return Scenario(g.compile(), {"a": 5})


@case()
def case_input_keys_not_in_schema(lib):
    # unknown input keys are dropped silently
    def peek(state):
        return {"log": [sorted(state)]}

    g = lib.StateGraph(Counter)
    g.add_node("peek", peek)
    g.add_edge(lib.START, "peek")
    g.add_edge("peek", lib.END)
    return Scenario(g.compile(), {"n": 2, "bogus": "ignored", "other": 1})


@case()
def case_empty_input_dict(lib):
    # nothing written by the input: the node sees only reducer defaults
    def peek(state):
        return {"n": len(state), "log": [sorted(state)]}

    g = lib.StateGraph(Counter)
    g.add_node("peek", peek)
    g.add_edge(lib.START, "peek")
    g.add_edge("peek", lib.END)
    return Scenario(g.compile(), {})


@case()
def case_config_max_workers_and_concurrency(lib):
    def spread(state):
        return {"log": ["spread"]}

    def leaf(name):
        def node(state):
            return {"n": 1, "log": [name]} if name == "p0" else {"log": [name]}

        return node

    g = lib.StateGraph(Counter)
    g.add_node("spread", spread)
    g.add_edge(lib.START, "spread")
    for i in range(5):
        g.add_node(f"p{i}", leaf(f"p{i}"))
        g.add_edge("spread", f"p{i}")
        g.add_edge(f"p{i}", lib.END)
    return Scenario(g.compile(), {"n": 0}, {"max_workers": 3})


@case()
def case_config_max_concurrency(lib):
    def leaf(name):
        def node(state):
            return {"log": [name]}

        return node

    g = lib.StateGraph(Counter)
    names = ["d", "b", "e", "a", "c"]
    for name in names:
        g.add_node(name, leaf(name))
        g.add_edge(lib.START, name)
    g.add_node("join", _step("join"))
    g.add_edge(names, "join")
    g.add_edge("join", lib.END)
    return Scenario(g.compile(), {"n": 0}, {"max_concurrency": 2})
