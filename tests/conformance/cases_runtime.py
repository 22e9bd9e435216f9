"""What a node's ``runtime`` carries (execution and server info, the context given
as a dict), ``RunControl`` draining a run between steps, and ``TimeoutPolicy``."""

import asyncio
import dataclasses
import importlib
from typing import TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Count(TypedDict, total=False):
    n: int
    seen: list


def _mod(lib, name):
    return importlib.import_module(f"{lib.name}.{name}")


def _thread():
    return {"configurable": {"thread_id": "t"}}


@case()
def case_execution_info_counts_attempts(lib):
    runtime_mod, types = _mod(lib, "runtime"), _mod(lib, "types")
    seen = []

    def flaky(state, runtime: runtime_mod.Runtime):
        info = runtime.execution_info
        seen.append(
            (
                info.node_attempt,
                info.thread_id,
                info.run_id,
                isinstance(info.node_first_attempt_time, float),
                bool(info.task_id),
                info.checkpoint_ns.split(":")[0],
                runtime.server_info,
            )
        )
        if info.node_attempt < 3:
            raise ConnectionError("again")
        return {"n": info.node_attempt}

    policy = types.RetryPolicy(initial_interval=0.001, jitter=False)
    g = lib.StateGraph(Count)
    g.add_node("flaky", flaky, retry_policy=policy)
    g.add_edge(lib.START, "flaky")
    graph = g.compile(checkpointer=lib.MemorySaver())
    config = {
        "configurable": {"thread_id": "t", "assistant_id": "a1", "graph_id": "g1"},
        "run_id": "1f0e4b7a-1111-2222-3333-444444444444",
    }

    def script(graph):
        out = graph.invoke({"n": 0}, config)
        return [out, [(a, t, r, f, k, ns, str(s)) for a, t, r, f, k, ns, s in seen]]

    return Scenario(graph, mode="script", script=script)


@case()
def case_execution_info_of_a_subgraph_node_names_the_whole_namespace(lib):
    runtime_mod = _mod(lib, "runtime")
    seen = []

    def record(state, runtime: runtime_mod.Runtime):
        info = runtime.execution_info
        # task ids are each library's own: keep the node names and where the id is
        parts = [part.split(":") for part in info.checkpoint_ns.split("|")]
        seen.append(([node for node, _ in parts], parts[-1][1] == info.task_id))
        return {"n": state.get("n", 0) + 1}

    inner = lib.StateGraph(Count)
    inner.add_node("leaf", record)
    inner.add_edge(lib.START, "leaf")
    middle = lib.StateGraph(Count)
    middle.add_node("inner", inner.compile())
    middle.add_edge(lib.START, "inner")
    root = lib.StateGraph(Count)
    root.add_node("top", record)
    root.add_node("middle", middle.compile())
    root.add_edge(lib.START, "top")
    root.add_edge("top", "middle")
    graph = root.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        return [graph.invoke({"n": 0}, _thread()), seen]

    return Scenario(graph, mode="script", script=script)


@case()
def case_run_control_drains_between_steps(lib):
    runtime_mod, errors = _mod(lib, "runtime"), _mod(lib, "errors")
    control = runtime_mod.RunControl()

    def first(state):
        control.request_drain("deploy")
        return {"n": 1}

    g = lib.StateGraph(Count)
    g.add_node("first", first)
    g.add_node("second", lambda s: {"n": s["n"] + 1})
    g.add_edge(lib.START, "first")
    g.add_edge("first", "second")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        try:
            graph.invoke({"n": 0}, _thread(), control=control)
            drained = None
        except errors.GraphDrained as exc:
            drained = str(exc)
        state = graph.get_state(_thread())
        again = graph.invoke(None, _thread())
        predrained = runtime_mod.RunControl()
        predrained.request_drain()
        try:
            graph.invoke({"n": 5}, {"configurable": {"thread_id": "u"}}, control=predrained)
        except errors.GraphDrained as exc:
            before = (str(exc), graph.get_state({"configurable": {"thread_id": "u"}}).next)
        return [drained, control.drain_reason, state.values, state.next, again, before]

    return Scenario(graph, mode="script", script=script)


@dataclasses.dataclass
class Ctx:
    user: str
    level: int = 1


@case()
def case_context_dict_becomes_the_schema_class(lib):
    runtime_mod = _mod(lib, "runtime")

    def node(state, runtime: runtime_mod.Runtime):
        ctx = runtime.context
        return {"seen": [type(ctx).__name__, ctx.user, ctx.level]}

    g = lib.StateGraph(Count, context_schema=Ctx)
    g.add_node("node", node)
    g.add_edge(lib.START, "node")
    graph = g.compile()

    def script(graph):
        out = graph.invoke({"n": 0}, context={"user": "ann"})
        try:
            graph.invoke({"n": 0}, context={"nobody": 1})
            refused = None
        except TypeError:
            refused = "TypeError"
        return [out, refused]

    return Scenario(graph, mode="script", script=script)


@case()
def case_timeout_policy_idle_refreshed_by_heartbeat(lib):
    runtime_mod, types, errors = _mod(lib, "runtime"), _mod(lib, "types"), _mod(lib, "errors")

    async def beating(state, runtime: runtime_mod.Runtime):
        for _ in range(6):
            await asyncio.sleep(0.05)
            runtime.heartbeat()
        return {"n": 1}

    async def silent(state):
        await asyncio.sleep(2)
        return {"n": 2}

    def graph_of(fn, timeout):
        g = lib.StateGraph(Count)
        g.add_node("node", fn, timeout=timeout)
        g.add_edge(lib.START, "node")
        return g.compile()

    idle = types.TimeoutPolicy(idle_timeout=0.2)
    capped = types.TimeoutPolicy(run_timeout=0.15, idle_timeout=1.0)

    def script(_graph):
        out = []
        for fn, timeout in ((beating, idle), (silent, idle), (beating, capped)):
            try:
                out.append(asyncio.run(graph_of(fn, timeout).ainvoke({"n": 0})))
            except errors.NodeTimeoutError:
                out.append("timed out")
        return out

    return Scenario(graph_of(beating, idle), mode="script", script=script)


@case()
def case_node_raising_cancelled_error_fails_the_run(lib):
    errors = _mod(lib, "errors")

    async def fine(state):
        return {"seen": ["fine"]}

    async def boom(state):
        raise asyncio.CancelledError("raised by the node itself")

    g = lib.StateGraph(Count)
    g.add_node("fine", fine)
    g.add_node("boom", boom)
    g.add_edge(lib.START, "fine")
    g.add_edge(lib.START, "boom")

    def script(graph):
        try:
            asyncio.run(graph.ainvoke({"seen": []}))
        except errors.NodeCancelledError as exc:
            return [exc.node, str(exc)]
        return None

    return Scenario(g.compile(), mode="script", script=script)


@case()
def case_send_timeout_overrides_the_node_and_names_its_kind(lib):
    types, errors = _mod(lib, "types"), _mod(lib, "errors")

    async def slow(state):
        await asyncio.sleep(0.3)
        return {"n": 1}

    def route(state):
        return [lib.Send("slow", state, timeout=types.TimeoutPolicy(idle_timeout=0.05))]

    g = lib.StateGraph(Count)
    g.add_node("slow", slow, timeout=types.TimeoutPolicy(idle_timeout=5.0))
    g.add_conditional_edges(lib.START, route)
    capped = lib.StateGraph(Count)
    capped.add_node("slow", slow, timeout=0.05)
    capped.add_edge(lib.START, "slow")

    def script(graph):
        seen = []
        for each in (graph, capped.compile()):
            try:
                asyncio.run(each.ainvoke({"n": 0}))
            except errors.NodeTimeoutError as exc:
                seen.append((exc.node, exc.kind, exc.idle_timeout, exc.run_timeout))
        return seen

    return Scenario(g.compile(), mode="script", script=script)


@case()
def case_a_chain_of_plain_nodes_binds_each_nodes_config_for_langchain(lib):
    """Each node of a chain (run one task a step, the fused path) sees its own
    config where langchain-core's runnables read it, as it would inside a model."""
    from langchain_core.runnables import RunnableLambda
    from langchain_core.runnables.config import ensure_config

    seen = []

    def inner(_):
        meta = ensure_config()["metadata"]
        return (meta["langgraph_node"], meta["langgraph_step"], list(meta["langgraph_triggers"]))

    def node(state):
        seen.append(RunnableLambda(inner).invoke(None))
        return {"n": state["n"] + 1}

    g = lib.StateGraph(Count)
    previous = lib.START
    for name in ("a", "b", "c"):
        g.add_node(name, node)
        g.add_edge(previous, name)
        previous = name
    graph = g.compile()

    def script(graph):
        out = graph.invoke({"n": 0})
        chunks = list(graph.stream({"n": 10}))
        return [out, chunks, list(seen)]

    return Scenario(graph, mode="script", script=script)
