"""Nodes returning Command objects, and retry policies."""

import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Flow(TypedDict):
    n: int
    log: Annotated[list, operator.add]


class Flaky(Exception):
    """Raised by nodes that fail a fixed number of times before succeeding."""


def _say(word):
    def node(state):
        return {"log": [word]}

    return node


@case()
def case_command_goto_with_update(lib):
    def decide(state):
        target = "even" if state["n"] % 2 == 0 else "odd"
        return lib.Command(goto=target, update={"n": state["n"] + 100, "log": ["decide"]})

    g = lib.StateGraph(Flow)
    g.add_node("decide", decide)
    g.add_node("even", _say("even"))
    g.add_node("odd", _say("odd"))
    g.add_edge(lib.START, "decide")
    g.add_edge("even", lib.END)
    g.add_edge("odd", lib.END)
    return Scenario(g.compile(), {"n": 4})


@case()
def case_command_goto_list(lib):
    def split(state):
        return lib.Command(goto=["right", "left"], update={"log": ["split"]})

    g = lib.StateGraph(Flow)
    g.add_node("split", split)
    g.add_node("left", _say("left"))
    g.add_node("right", _say("right"))
    g.add_node("merge", _say("merge"))
    g.add_edge(lib.START, "split")
    g.add_edge(["left", "right"], "merge")
    g.add_edge("merge", lib.END)
    return Scenario(g.compile(), {"n": 0})


@case()
def case_command_goto_send(lib):
    def dispatch(state):
        return lib.Command(goto=lib.Send("handle", {"n": state["n"] * 3, "log": []}))

    def handle(state):
        return {"log": [f"handled {state['n']}"]}

    g = lib.StateGraph(Flow)
    g.add_node("dispatch", dispatch)
    g.add_node("handle", handle)
    g.add_edge(lib.START, "dispatch")
    g.add_edge("handle", lib.END)
    return Scenario(g.compile(), {"n": 7})


@case()
def case_command_goto_list_of_sends(lib):
    def dispatch(state):
        sends = [lib.Send("handle", {"n": i, "log": []}) for i in (2, 0, 1)]
        return lib.Command(goto=sends, update={"log": ["dispatch"]})

    def handle(state):
        return (
            {"n": state["n"], "log": [f"h{state['n']}"]}
            if state["n"] == 0
            else {"log": [f"h{state['n']}"]}
        )

    g = lib.StateGraph(Flow)
    g.add_node("dispatch", dispatch)
    g.add_node("handle", handle)
    g.add_edge(lib.START, "dispatch")
    return Scenario(g.compile(), {"n": 9})


@case()
def case_command_update_only(lib):
    # no goto: execution continues along the static edge
    def write(state):
        return lib.Command(update={"n": state["n"] + 1, "log": ["write"]})

    g = lib.StateGraph(Flow)
    g.add_node("write", write)
    g.add_node("next", _say("next"))
    g.add_edge(lib.START, "write")
    g.add_edge("write", "next")
    g.add_edge("next", lib.END)
    return Scenario(g.compile(), {"n": 1})


@case()
def case_command_goto_plus_static_edge(lib):
    # both the static edge and the Command's goto fire
    def branch(state):
        return lib.Command(goto="extra", update={"log": ["branch"]})

    g = lib.StateGraph(Flow)
    g.add_node("branch", branch)
    g.add_node("static", _say("static"))
    g.add_node("extra", _say("extra"))
    g.add_edge(lib.START, "branch")
    g.add_edge("branch", "static")
    g.add_edge("static", lib.END)
    g.add_edge("extra", lib.END)
    return Scenario(g.compile(), {"n": 0})


@case()
def case_command_loop_until_done(lib):
    def tick(state):
        if state["n"] >= 3:
            return lib.Command(goto=lib.END, update={"log": ["stop"]})
        return lib.Command(goto="tick", update={"n": state["n"] + 1, "log": [state["n"]]})

    g = lib.StateGraph(Flow)
    g.add_node("tick", tick)
    g.add_edge(lib.START, "tick")
    return Scenario(g.compile(), {"n": 0})


@case()
def case_command_goto_end_keeps_static_edge(lib):
    # Command(goto=END) does not suppress the static edge: "after" still runs
    def stop(state):
        return lib.Command(goto=lib.END, update={"n": -1})

    g = lib.StateGraph(Flow)
    g.add_node("stop", stop)
    g.add_node("after", _say("after"))
    g.add_edge(lib.START, "stop")
    g.add_edge("stop", "after")
    g.add_edge("after", lib.END)
    return Scenario(g.compile(), {"n": 5})


@case()
def case_command_from_parallel_nodes(lib):
    def left(state):
        return lib.Command(goto="sink", update={"log": ["left"]})

    def right(state):
        return lib.Command(goto="sink", update={"log": ["right"]})

    g = lib.StateGraph(Flow)
    g.add_node("left", left)
    g.add_node("right", right)
    g.add_node("sink", _say("sink"))
    g.add_edge(lib.START, "left")
    g.add_edge(lib.START, "right")
    g.add_edge("sink", lib.END)
    return Scenario(g.compile(), {"n": 0})


@case()
def case_retry_policy_recovers(lib):
    attempts = []

    def flaky(state):
        attempts.append(1)
        if len(attempts) < 3:
            raise Flaky(f"attempt {len(attempts)}")
        return {"log": [f"ok after {len(attempts)}"]}

    policy = lib.RetryPolicy(max_attempts=3, initial_interval=0.001, jitter=False, retry_on=Flaky)
    g = lib.StateGraph(Flow)
    g.add_node("flaky", flaky, retry_policy=policy)
    g.add_edge(lib.START, "flaky")
    g.add_edge("flaky", lib.END)
    return Scenario(g.compile(), {"n": 0})


@case(expect="Flaky")
def case_retry_policy_exhausted(lib):
    attempts = []

    def flaky(state):
        attempts.append(1)
        raise Flaky(f"attempt {len(attempts)}")

    policy = lib.RetryPolicy(max_attempts=2, initial_interval=0.001, jitter=False, retry_on=Flaky)
    g = lib.StateGraph(Flow)
    g.add_node("flaky", flaky, retry_policy=policy)
    g.add_edge(lib.START, "flaky")
    g.add_edge("flaky", lib.END)
    # the error reaching the caller is the one from the last (2nd) attempt
    return Scenario(g.compile(), {"n": 0}, error_mentions=("attempt 2",))


@case(expect="KeyError")
def case_retry_policy_not_matching(lib):
    attempts = []

    def picky(state):
        attempts.append(1)
        raise KeyError(f"attempt {len(attempts)}")

    policy = lib.RetryPolicy(max_attempts=4, initial_interval=0.001, jitter=False, retry_on=Flaky)
    g = lib.StateGraph(Flow)
    g.add_node("picky", picky, retry_policy=policy)
    g.add_edge(lib.START, "picky")
    # no retry for KeyError: the first attempt's error surfaces
    return Scenario(g.compile(), {"n": 0}, error_mentions=("attempt 1",))
