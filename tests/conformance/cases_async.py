"""Async nodes (ainvoke / astream), batch and abatch."""

import asyncio
import operator
import time
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Work(TypedDict):
    n: int
    log: Annotated[list, operator.add]


class AsyncNodeFailure(Exception):
    """Raised from an async node."""


def _async_say(word, delay=0.0):
    async def node(state):
        if delay:
            await asyncio.sleep(delay)
        return {"log": [word]}

    return node


@case()
def case_async_chain(lib):
    async def first(state):
        await asyncio.sleep(0.001)
        return {"n": state["n"] + 1, "log": ["first"]}

    async def second(state):
        return {"n": state["n"] * 10, "log": ["second"]}

    g = lib.StateGraph(Work)
    g.add_sequence([first, second])
    g.add_edge(lib.START, "first")
    g.add_edge("second", lib.END)
    return Scenario(g.compile(), {"n": 1}, mode="ainvoke")


@case()
def case_async_fan_out_with_sleeps(lib):
    # completion order is c, b, a; reducer order stays a, b, c
    g = lib.StateGraph(Work)
    g.add_node("a", _async_say("a", 0.03))
    g.add_node("b", _async_say("b", 0.015))
    g.add_node("c", _async_say("c", 0.0))

    async def gather(state):
        return {"n": len(state["log"]), "log": ["gather"]}

    g.add_node("gather", gather)
    for name in ("c", "b", "a"):
        g.add_edge(lib.START, name)
    g.add_edge(["a", "b", "c"], "gather")
    g.add_edge("gather", lib.END)
    return Scenario(g.compile(), {"n": 0}, mode="ainvoke")


@case()
def case_mixed_sync_and_async_nodes(lib):
    def sync_node(state):
        time.sleep(0.005)
        return {"n": state["n"] + 1, "log": ["sync"]}

    async def async_node(state):
        await asyncio.sleep(0.005)
        return {"log": ["async"]}

    def after(state):
        return {"log": [f"after n={state['n']}"]}

    g = lib.StateGraph(Work)
    g.add_node("sync_node", sync_node)
    g.add_node("async_node", async_node)
    g.add_node("after", after)
    g.add_edge(lib.START, "sync_node")
    g.add_edge(lib.START, "async_node")
    g.add_edge(["sync_node", "async_node"], "after")
    g.add_edge("after", lib.END)
    return Scenario(g.compile(), {"n": 0}, mode="ainvoke")


@case()
def case_async_node_reads_config(lib):
    async def scale(state, config):
        await asyncio.sleep(0.001)
        return {"n": state["n"] * config["configurable"]["factor"], "log": ["scaled"]}

    g = lib.StateGraph(Work)
    g.add_node("scale", scale)
    g.add_edge(lib.START, "scale")
    config = {"configurable": {"factor": 7}}
    return Scenario(g.compile(), {"n": 6}, config, mode="ainvoke")


@case()
def case_sync_nodes_under_ainvoke(lib):
    g = lib.StateGraph(Work)
    g.add_node("one", lambda s: {"n": s["n"] + 1, "log": ["one"]})
    g.add_node("two", lambda s: {"n": s["n"] + 2, "log": ["two"]})
    g.add_edge(lib.START, "one")
    g.add_edge("one", "two")
    return Scenario(g.compile(), {"n": 0}, mode="ainvoke")


@case()
def case_async_send_map_reduce(lib):
    class MR(TypedDict):
        items: list
        out: Annotated[list, operator.add]
        done: bool

    async def square(state):
        await asyncio.sleep(0.002 * (5 - state["x"]))
        return {"out": [state["x"] ** 2]}

    async def finish(state):
        return {"done": True}

    g = lib.StateGraph(MR)
    g.add_node("square", square)
    g.add_node("finish", finish)
    g.add_conditional_edges(
        lib.START, lambda s: [lib.Send("square", {"x": x}) for x in s["items"]], ["square"]
    )
    g.add_edge("square", "finish")
    g.add_edge("finish", lib.END)
    return Scenario(g.compile(), {"items": [1, 2, 3, 4]}, mode="ainvoke")


@case()
def case_async_command_routing(lib):
    async def decide(state):
        await asyncio.sleep(0.001)
        if state["n"] < 3:
            return lib.Command(goto="decide", update={"n": state["n"] + 1, "log": [state["n"]]})
        return lib.Command(goto="done", update={"log": ["route done"]})

    g = lib.StateGraph(Work)
    g.add_node("decide", decide)
    g.add_node("done", _async_say("done"))
    g.add_edge(lib.START, "decide")
    g.add_edge("done", lib.END)
    return Scenario(g.compile(), {"n": 0}, mode="ainvoke")


@case(expect="AsyncNodeFailure")
def case_async_error_in_parallel_branch(lib):
    async def broken(state):
        await asyncio.sleep(0.005)
        raise AsyncNodeFailure("async branch broke")

    g = lib.StateGraph(Work)
    g.add_node("broken", broken)
    g.add_node("slow", _async_say("slow", 0.03))
    g.add_node("next", _async_say("next"))
    g.add_edge(lib.START, "broken")
    g.add_edge(lib.START, "slow")
    g.add_edge("slow", "next")
    return Scenario(g.compile(), {"n": 0}, mode="ainvoke", error_mentions=("async branch broke",))


@case(expect="GraphRecursionError")
def case_async_recursion_limit(lib):
    async def spin(state):
        return {"n": state["n"] + 1}

    g = lib.StateGraph(Work)
    g.add_node("spin", spin)
    g.add_edge(lib.START, "spin")
    g.add_edge("spin", "spin")
    return Scenario(g.compile(), {"n": 0}, {"recursion_limit": 3}, mode="ainvoke")


@case(
    expect="TypeError",
    graphpool_expect="ok",
    why="graphpool runs async nodes under sync invoke on its event loop; LangGraph refuses",
)
def case_async_node_under_sync_invoke(lib):
    # LangGraph refuses to run a coroutine-only node from the sync API
    g = lib.StateGraph(Work)
    g.add_node("only_async", _async_say("only_async"))
    g.add_edge(lib.START, "only_async")
    return Scenario(g.compile(), {"n": 0}, error_mentions=("only_async",))


def _batch_graph(lib):
    def double(state):
        return {"n": state["n"] * 2, "log": [f"double {state['n']}"]}

    def tag(state):
        return {"log": ["big" if state["n"] > 5 else "small"]}

    g = lib.StateGraph(Work)
    g.add_node("double", double)
    g.add_node("tag", tag)
    g.add_edge(lib.START, "double")
    g.add_edge("double", "tag")
    g.add_edge("tag", lib.END)
    return g.compile()


@case()
def case_batch_three_inputs(lib):
    inputs = [{"n": 1}, {"n": 5, "log": ["pre"]}, {"n": 3}]
    return Scenario(_batch_graph(lib), mode="batch", inputs=inputs)


@case()
def case_batch_with_max_concurrency(lib):
    inputs = [{"n": i} for i in range(3)]
    return Scenario(_batch_graph(lib), mode="batch", inputs=inputs, config={"max_concurrency": 2})


@case()
def case_abatch_three_inputs_async_nodes(lib):
    async def slow_inc(state):
        await asyncio.sleep(0.01 * (3 - state["n"]))
        return {"n": state["n"] + 100, "log": [f"inc {state['n']}"]}

    g = lib.StateGraph(Work)
    g.add_node("slow_inc", slow_inc)
    g.add_edge(lib.START, "slow_inc")
    g.add_edge("slow_inc", lib.END)
    inputs = [{"n": 0}, {"n": 1}, {"n": 2}]
    return Scenario(g.compile(), mode="abatch", inputs=inputs)


@case()
def case_abatch_sync_graph(lib):
    inputs = [{"n": 7}, {"n": 0}, {"n": 2, "log": ["x"]}]
    return Scenario(_batch_graph(lib), mode="abatch", inputs=inputs)


@case()
def case_batch_reads_config(lib):
    def scale(state, config):
        return {"n": state["n"] * config["configurable"]["k"]}

    g = lib.StateGraph(Work)
    g.add_node("scale", scale)
    g.add_edge(lib.START, "scale")
    config = {"configurable": {"k": -2}}
    return Scenario(g.compile(), mode="batch", inputs=[{"n": 1}, {"n": 2}, {"n": 3}], config=config)
