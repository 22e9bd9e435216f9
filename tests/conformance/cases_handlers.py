"""Error handlers: ``add_node(error_handler=...)`` and ``set_node_defaults(error_handler=...)``."""

import importlib
import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Log(TypedDict):
    log: Annotated[list, operator.add]


def _failing(word):
    def node(state):
        raise ValueError(f"{word} failed")

    return node


def _node_error(lib):
    return importlib.import_module(f"{lib.name}.errors").NodeError


def _graph(lib, **defaults):
    g = lib.StateGraph(Log)
    if defaults:
        g.set_node_defaults(**defaults)
    return g


@case()
def case_error_handler_runs_after_retries_and_routes(lib):
    NodeError = _node_error(lib)
    attempts = []

    def flaky(state):
        attempts.append(1)
        raise ValueError("always")

    def handler(state, error: NodeError):
        note = f"{error.node}:{type(error.error).__name__}:{len(attempts)}"
        return lib.Command(update={"log": [note]}, goto="after")

    policy = lib.RetryPolicy(
        max_attempts=3, initial_interval=0.001, jitter=False, retry_on=ValueError
    )
    g = _graph(lib)
    g.add_node("flaky", flaky, retry_policy=policy, error_handler=handler)
    g.add_node("after", lambda s: {"log": ["after"]})
    g.add_node("side", lambda s: {"log": ["side"]})
    g.add_edge(lib.START, "flaky")
    g.add_edge(lib.START, "side")
    return Scenario(g.compile(), {"log": []})


@case()
def case_default_error_handler_and_own_handler(lib):
    NodeError = _node_error(lib)

    def own(state, error: NodeError):
        return {"log": [f"own:{error.node}"]}

    def default(state, error: NodeError, config):
        return {"log": [f"default:{error.node}:{len(state['log'])}"]}

    g = _graph(lib, error_handler=default)
    g.add_node("a", _failing("a"), error_handler=own)
    g.add_node("b", _failing("b"))
    g.add_node("c", lambda s: {"log": ["c"]})
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_edge("b", "c")
    return Scenario(g.compile(), {"log": ["in"]})


@case(expect="RuntimeError")
def case_error_handler_that_raises_fails_the_run(lib):
    def broken(state):
        raise RuntimeError("handler failed")

    g = _graph(lib, error_handler=lambda s: {"log": ["default must not run"]})
    g.add_node("a", _failing("a"), error_handler=broken)
    g.add_edge(lib.START, "a")
    return Scenario(g.compile(), {"log": []}, error_mentions=("handler failed",))


@case(expect="build_error", build_value_error=True)
def case_default_error_handler_name_is_taken(lib):
    g = _graph(lib, error_handler=lambda s: {"log": ["x"]})
    g.add_node("__default_error_handler__", lambda s: {"log": ["mine"]})
    g.add_edge(lib.START, "__default_error_handler__")
    return Scenario(g.compile(), {"log": []})


@case()
def case_resumed_run_runs_the_handler_not_the_failed_node(lib):
    NodeError = _node_error(lib)
    calls = {"node": 0, "handler": 0}
    crash = [True]

    def failing(state):
        calls["node"] += 1
        raise RuntimeError("boom")

    def handler(state, error: NodeError):
        calls["handler"] += 1
        if crash[0]:
            raise RuntimeError("handler crash")
        return {"log": [f"recovered {error.node} {'boom' in str(error.error)}"]}

    g = _graph(lib, error_handler=handler)
    g.add_node("fail", failing)
    g.add_edge(lib.START, "fail")
    graph = g.compile(checkpointer=lib.MemorySaver())
    config = {"configurable": {"thread_id": "t"}}

    def script(graph):
        try:
            graph.invoke({"log": []}, config)
        except RuntimeError as exc:
            first = str(exc)
        state = graph.get_state(config)
        crash[0] = False
        return [first, dict(calls), state.next, graph.invoke(None, config), dict(calls)]

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_before_an_error_handler_then_resume(lib):
    NodeError = _node_error(lib)
    seen = []

    def handler(state, error: NodeError):
        seen.append((error.node, str(error.error)))
        return {"log": ["handled"]}

    g = _graph(lib)
    g.add_node("fail", _failing("fail"), error_handler=handler)
    g.add_node("side", lambda s: {"log": ["side"]})
    g.add_edge(lib.START, "fail")
    g.add_edge(lib.START, "side")
    graph = g.compile(checkpointer=lib.MemorySaver(), interrupt_before=["__error_handler__fail"])
    config = {"configurable": {"thread_id": "t"}}

    def script(graph):
        first = graph.invoke({"log": []}, config)
        held = list(seen)
        second = graph.invoke(None, config)
        return [first, held, second, list(seen)]

    return Scenario(graph, mode="script", script=script)


@case()
def case_handlers_run_while_siblings_are_in_flight(lib):
    # b fails only once a's handler started, and a's handler waits for b's:
    # each handler must start while the other task is still running
    import threading

    NodeError = _node_error(lib)
    started = {"a": threading.Event(), "b": threading.Event()}

    def node_b(state):
        started["a"].wait(5)
        raise RuntimeError("b failed")

    def handler_for(name, other):
        def handler(state, error: NodeError):
            started[name].set()
            waited = started[other].wait(5) if name == "a" else True
            return {"log": [f"{error.node}:{waited}"]}

        return handler

    g = _graph(lib)
    g.add_node("a", _failing("a"), error_handler=handler_for("a", "b"))
    g.add_node("b", node_b, error_handler=handler_for("b", "a"))
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    return Scenario(g.compile(), {"log": []}, stream=False)
