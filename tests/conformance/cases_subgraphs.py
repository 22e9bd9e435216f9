"""Subgraphs: compiled graphs as nodes, graphs invoked inside nodes, nesting,
``stream(subgraphs=True)``, interrupts and breakpoints inside subgraphs,
``Command.PARENT`` and ``get_state(subgraphs=True)``.

Namespaces hold task ids, which are each library's own: scripts compare them
with the ids cut off (``node:<id>`` -> ``node``).
"""

import itertools
import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Log(TypedDict):
    log: Annotated[list, operator.add]


class Inner(TypedDict):
    log: Annotated[list, operator.add]
    secret: str


class Other(TypedDict):
    text: str


def _say(word):
    def node(state):
        return {"log": [word]}

    return node


def _chain(lib, schema, *names, **compile_args):
    g = lib.StateGraph(schema)
    for name in names:
        g.add_node(name, _say(name))
    g.add_edge(lib.START, names[0])
    for left, right in itertools.pairwise(names):
        g.add_edge(left, right)
    return g.compile(**compile_args)


def _thread(name="t"):
    return {"configurable": {"thread_id": name}}


def _ns(namespace):
    return tuple(part.split(":")[0] for part in namespace)


def _chunks(stream):
    """``(namespace, ...)`` chunks with the task ids cut off the namespaces."""
    return [(_ns(item[0]), *item[1:]) for item in stream]


@case()
def case_subgraph_node_shares_keys(lib):
    parent = lib.StateGraph(Log)
    parent.add_node("before", _say("before"))
    parent.add_node("child", _chain(lib, Inner, "a", "b"))
    parent.add_node("after", _say("after"))
    parent.add_edge(lib.START, "before")
    parent.add_edge("before", "child")
    parent.add_edge("child", "after")
    return Scenario(parent.compile(), {"log": ["in"]})


@case()
def case_subgraph_with_own_schema_invoked_in_a_node(lib):
    inner = lib.StateGraph(Other)
    inner.add_node("shout", lambda s: {"text": s["text"].upper()})
    inner.add_node("mark", lambda s: {"text": s["text"] + "!"})
    inner.add_edge(lib.START, "shout")
    inner.add_edge("shout", "mark")
    compiled = inner.compile()

    def call(state):
        out = compiled.invoke({"text": state["log"][-1]})
        return {"log": [out["text"]]}

    parent = lib.StateGraph(Log)
    parent.add_node("call", call)
    parent.add_edge(lib.START, "call")
    return Scenario(parent.compile(), {"log": ["hi"]})


@case()
def case_send_to_a_subgraph_node_and_parallel_subgraphs(lib):
    def fan(state):
        return [lib.Send("child", {"log": [f"job{i}"]}) for i in range(3)]

    parent = lib.StateGraph(Log)
    parent.add_node("child", _chain(lib, Log, "x", "y"))
    parent.add_node("other", _chain(lib, Log, "z"))
    parent.add_conditional_edges(lib.START, fan, ["child"])
    parent.add_edge(lib.START, "other")
    return Scenario(parent.compile(), {"log": []})


@case()
def case_two_levels_of_nesting_stream_subgraphs(lib):
    level2 = _chain(lib, Log, "leaf1", "leaf2")
    level1 = lib.StateGraph(Log)
    level1.add_node("mid", _say("mid"))
    level1.add_node("deep", level2)
    level1.add_edge(lib.START, "mid")
    level1.add_edge("mid", "deep")
    root = lib.StateGraph(Log)
    root.add_node("top", level1.compile())
    root.add_node("end", _say("end"))
    root.add_edge(lib.START, "top")
    root.add_edge("top", "end")
    graph = root.compile()

    def script(graph):
        return {
            mode if isinstance(mode, str) else "+".join(mode): _chunks(
                graph.stream({"log": []}, stream_mode=mode, subgraphs=True)
            )
            for mode in ("updates", "values", ["values", "updates"], ["updates", "custom"])
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_custom_chunks_from_a_subgraph(lib):
    def write(state, writer):
        writer({"from": "inner"})
        return {"log": ["w"]}

    inner = lib.StateGraph(Log)
    inner.add_node("write", write)
    inner.add_edge(lib.START, "write")
    parent = lib.StateGraph(Log)
    parent.add_node("child", inner.compile())
    parent.add_edge(lib.START, "child")
    graph = parent.compile()

    def script(graph):
        return {
            "plain": list(graph.stream({"log": []}, stream_mode="custom")),
            "nested": _chunks(graph.stream({"log": []}, stream_mode="custom", subgraphs=True)),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_in_subgraph_then_resume(lib):
    calls = []

    def ask(state):
        calls.append("ask")
        return {"log": [f"ask={lib.interrupt('ok?')}"]}

    def first(state):
        calls.append("first")
        return {"log": ["first"]}

    inner = lib.StateGraph(Log)
    inner.add_node("first", first)
    inner.add_node("ask", ask)
    inner.add_edge(lib.START, "first")
    inner.add_edge("first", "ask")
    parent = lib.StateGraph(Log)
    parent.add_node("child", inner.compile())
    parent.add_node("after", _say("after"))
    parent.add_edge(lib.START, "child")
    parent.add_edge("child", "after")
    graph = parent.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        paused = _chunks(
            graph.stream({"log": []}, _thread(), stream_mode=["updates", "values"], subgraphs=True)
        )
        state = graph.get_state(_thread(), subgraphs=True)
        inner_state = state.tasks[0].state
        snapshot = {
            "next": state.next,
            "tasks": [(t.name, [i.value for i in t.interrupts]) for t in state.tasks],
            "inner": (inner_state.values, inner_state.next),
            "inner_ns": _ns(inner_state.config["configurable"]["checkpoint_ns"].split("|")),
            "inner_via_config": graph.get_state(inner_state.config).values,
        }
        calls.clear()
        resumed = _chunks(
            graph.stream(
                lib.Command(resume="yes"),
                _thread(),
                stream_mode=["updates", "values"],
                subgraphs=True,
            )
        )
        return {
            "paused": paused,
            "snapshot": snapshot,
            "resumed": resumed,
            "reran": list(calls),
            "final": graph.get_state(_thread()).values,
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_breakpoint_in_a_parallel_subgraph(lib):
    inner = _chain(lib, Log, "i1", "i2", interrupt_before=["i2"])
    parent = lib.StateGraph(Log)
    parent.add_node("inner", inner)
    parent.add_node("side", _say("side"))
    parent.add_node("join", _say("join"))
    parent.add_edge(lib.START, "inner")
    parent.add_edge(lib.START, "side")
    parent.add_edge(["inner", "side"], "join")
    graph = parent.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        return {
            "first": sorted(
                map(repr, _chunks(graph.stream({"log": []}, _thread(), subgraphs=True)))
            ),
            "rest": list(graph.stream(None, _thread())),
            "other": [graph.invoke({"log": []}, _thread("u")), graph.invoke(None, _thread("u"))],
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_subgraph_checkpointer_true_keeps_its_state(lib):
    inner = _chain(lib, Log, "count", checkpointer=True)
    parent = lib.StateGraph(Log)
    parent.add_node("child", inner)
    parent.add_edge(lib.START, "child")
    graph = parent.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        first = graph.invoke({"log": ["one"]}, _thread())
        second = graph.invoke({"log": ["two"]}, _thread())
        return {"first": first, "second": second}

    return Scenario(graph, mode="script", script=script)


@case()
def case_command_parent_from_a_subgraph(lib):
    inner = lib.StateGraph(Log)
    inner.add_node("work", _say("work"))
    inner.add_node(
        "jump",
        lambda s: lib.Command(graph=lib.Command.PARENT, goto="elsewhere", update={"log": ["up"]}),
    )
    inner.add_edge(lib.START, "work")
    inner.add_edge("work", "jump")
    parent = lib.StateGraph(Log)
    parent.add_node("child", inner.compile(), destinations=("elsewhere",))
    parent.add_node("elsewhere", _say("elsewhere"))
    parent.add_edge(lib.START, "child")
    return Scenario(parent.compile(), {"log": []})


@case()
def case_command_parent_from_a_graph_invoked_in_a_node(lib):
    inner = lib.StateGraph(Log)
    inner.add_node("jump", lambda s: lib.Command(graph=lib.Command.PARENT, goto="b"))
    inner.add_edge(lib.START, "jump")
    compiled = inner.compile()

    def a(state):
        compiled.invoke({"log": []})
        return {"log": ["not reached"]}

    parent = lib.StateGraph(Log)
    parent.add_node("a", a)
    parent.add_node("b", _say("b"))
    parent.add_edge(lib.START, "a")
    return Scenario(parent.compile(), {"log": []})


@case()
def case_two_graphs_invoked_in_one_node_stream_under_numbered_namespaces(lib):
    first = _chain(lib, Log, "one", checkpointer=True)
    second = _chain(lib, Log, "two")

    def both(state):
        a = first.invoke({"log": []})
        b = second.invoke({"log": a["log"]})
        return {"log": b["log"]}

    parent = lib.StateGraph(Log)
    parent.add_node("both", both)
    parent.add_edge(lib.START, "both")
    graph = parent.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        return [
            _chunks(graph.stream({"log": []}, _thread(), stream_mode="updates", subgraphs=True))
            for _ in range(2)
        ]

    return Scenario(graph, mode="script", script=script)


@case()
def case_messages_from_a_subgraph(lib):
    from langchain_core.messages import AIMessage

    class Chat(TypedDict):
        messages: Annotated[list, lib.add_messages]

    inner = lib.StateGraph(Chat)
    inner.add_node("reply", lambda s: {"messages": [AIMessage("inner reply", id="m1")]})
    inner.add_edge(lib.START, "reply")
    parent = lib.StateGraph(Chat)
    parent.add_node("child", inner.compile())
    parent.add_node("after", lambda s: {"messages": [AIMessage("after", id="m2")]})
    parent.add_edge(lib.START, "child")
    parent.add_edge("child", "after")
    graph = parent.compile()

    def script(graph):
        plain = [
            (m.content, md["langgraph_node"])
            for m, md in graph.stream({"messages": []}, stream_mode="messages")
        ]
        nested = [
            (
                _ns(ns),
                m.content,
                md["langgraph_node"],
                _ns(md["langgraph_checkpoint_ns"].split("|")),
            )
            for ns, (m, md) in graph.stream(
                {"messages": []}, stream_mode="messages", subgraphs=True
            )
        ]
        return {"plain": plain, "nested": nested}

    return Scenario(graph, mode="script", script=script)


@case()
def case_async_subgraph_nodes_and_ainvoke_inside_a_node(lib):
    import asyncio

    async def slow(state):
        await asyncio.sleep(0)
        return {"log": ["slow"]}

    inner = lib.StateGraph(Log)
    inner.add_node("slow", slow)
    inner.add_node("quick", _say("quick"))
    inner.add_edge(lib.START, "slow")
    inner.add_edge("slow", "quick")
    compiled = inner.compile()

    async def caller(state):
        out = await compiled.ainvoke({"log": []})
        return {"log": [f"caller saw {out['log']}"]}

    parent = lib.StateGraph(Log)
    parent.add_node("child", compiled)
    parent.add_node("caller", caller)
    parent.add_edge(lib.START, "child")
    parent.add_edge("child", "caller")
    return Scenario(parent.compile(), {"log": []}, mode="ainvoke")


@case()
def case_update_and_history_on_a_subgraph_namespace(lib):
    def ask(state):
        return {"log": [f"ask={lib.interrupt('ok?')}"]}

    inner = lib.StateGraph(Log)
    inner.add_node("first", _say("first"))
    inner.add_node("ask", ask)
    inner.add_edge(lib.START, "first")
    inner.add_edge("first", "ask")
    quiet = _chain(lib, Log, "quiet", checkpointer=False)
    parent = lib.StateGraph(Log)
    parent.add_node("child", inner.compile())
    parent.add_node("nosave", quiet)
    parent.add_edge(lib.START, "child")
    parent.add_edge(lib.START, "nosave")
    graph = parent.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        graph.invoke({"log": []}, _thread())
        state = graph.get_state(_thread(), subgraphs=True)
        by_name = {t.name: t.state for t in state.tasks}
        inner_config = by_name["child"].config
        history = [(h.values, h.next) for h in graph.get_state_history(inner_config)]
        graph.update_state(inner_config, {"log": ["edited"]})
        after = graph.get_state(_thread(), subgraphs=True)
        resumed = graph.invoke(lib.Command(resume="yes"), _thread())
        return {
            "nosave": by_name["nosave"],
            "history": history,
            "after": ({t.name: t.state.values for t in after.tasks if t.name == "child"}),
            "resumed": resumed,
        }

    return Scenario(graph, mode="script", script=script)
