"""Checkpointers and human-in-the-loop: threads, get_state, breakpoints, interrupt().

Multi-call cases use ``mode="script"``: the script makes its calls on one thread
and returns what it saw (results, streams, snapshot fields), which must match.
"""

import asyncio
import itertools
import operator
from typing import Annotated, TypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Log(TypedDict):
    log: Annotated[list, operator.add]
    n: int


def _say(word):
    def node(state):
        return {"log": [word]}

    return node


def _asker(lib, word):
    def node(state):
        answer = lib.interrupt(f"{word}?")
        return {"log": [f"{word}={answer}"]}

    return node


def _thread(name="t"):
    return {"configurable": {"thread_id": name}}


def _chain(lib, *names, **compile_args):
    g = lib.StateGraph(Log)
    for name in names:
        g.add_node(name, _say(name))
    g.add_edge(lib.START, names[0])
    for left, right in itertools.pairwise(names):
        g.add_edge(left, right)
    g.add_edge(names[-1], lib.END)
    return g.compile(checkpointer=lib.MemorySaver(), **compile_args)


def _snap(state):
    """The comparable fields of a StateSnapshot (ids and times are each library's own)."""
    return {
        "values": state.values,
        "next": state.next,
        "metadata": state.metadata,
        "tasks": [(t.name, t.path, t.result, t.interrupts) for t in state.tasks],
        "interrupts": state.interrupts,
    }


def _updates(chunks):
    """Updates of one step may arrive in any order: compare them sorted."""
    return sorted(repr(sorted(c.items())) for c in chunks)


@case()
def case_thread_continues_with_new_input(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        first = graph.invoke({"log": ["in1"], "n": 1}, _thread())
        second = graph.invoke({"log": ["in2"]}, _thread())
        history = [
            (h.metadata["source"], h.metadata["step"], h.next, h.values)
            for h in graph.get_state_history(_thread())
        ]
        return {
            "first": first,
            "second": second,
            "state": _snap(graph.get_state(_thread())),
            "history": history,
            "other": graph.invoke({"log": ["x"]}, _thread("u")),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_checkpointer_single_invoke_streams(lib):
    graph = _chain(lib, "a", "b", "c")
    return Scenario(graph, {"log": [], "n": 0}, config=_thread())


@case()
def case_get_state_of_unknown_thread(lib):
    graph = _chain(lib, "a")

    def script(graph):
        state = graph.get_state(_thread("nobody"))
        return {
            "state": (state.values, state.next, state.metadata, state.tasks),
            "history": list(graph.get_state_history(_thread("nobody"))),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_before_then_continue(lib):
    graph = _chain(lib, "a", "b", "c", interrupt_before=["b"])

    def script(graph):
        first = graph.invoke({"log": [], "n": 0}, _thread())
        paused = _snap(graph.get_state(_thread()))
        rest = list(graph.stream(None, _thread(), stream_mode="updates"))
        again = graph.invoke(None, _thread())  # finished: nothing runs
        return {
            "first": first,
            "paused": paused,
            "rest": rest,
            "again": again,
            "done": _snap(graph.get_state(_thread())),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_after_join_then_before(lib):
    g = lib.StateGraph(Log)
    for name in "abcd":
        g.add_node(name, _say(name))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge(["b", "c"], "d")
    g.add_edge("d", lib.END)
    graph = g.compile(checkpointer=lib.MemorySaver(), interrupt_before=["d"], interrupt_after=["b"])

    def script(graph):
        first = list(graph.stream({"log": [], "n": 0}, _thread(), stream_mode="updates"))
        paused = _snap(graph.get_state(_thread()))
        # the resumed run passes the breakpoint before "d": nothing changed since
        second = list(graph.stream(None, _thread(), stream_mode="values"))
        return {"first": _updates(first), "paused": paused, "second": second}

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_before_all_nodes(lib):
    graph = _chain(lib, "a", "b", interrupt_before="*")

    def script(graph):
        out = [graph.invoke({"log": [], "n": 0}, _thread())]
        for _ in range(3):
            out.append((graph.get_state(_thread()).next, graph.invoke(None, _thread())))
        return out

    return Scenario(graph, mode="script", script=script)


@case()
def case_breakpoint_without_checkpointer(lib):
    g = lib.StateGraph(Log)
    for name in "ab":
        g.add_node(name, _say(name))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "b")
    return Scenario(g.compile(interrupt_after=["a"]), {"log": [], "n": 0})


@case()
def case_interrupt_in_node_without_checkpointer(lib):
    g = lib.StateGraph(Log)
    g.add_node("ask", _asker(lib, "ask"))
    g.add_node("side", _say("side"))
    g.add_edge(lib.START, "ask")
    g.add_edge(lib.START, "side")
    return Scenario(g.compile(), {"log": ["in"], "n": 0}, stream=False)


@case()
def case_interrupt_and_resume(lib):
    g = lib.StateGraph(Log)
    g.add_node("a", _say("a"))
    g.add_node("ask", _asker(lib, "ask"))
    g.add_node("c", _say("c"))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "ask")
    g.add_edge("ask", "c")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        first = graph.invoke({"log": [], "n": 0}, _thread())
        paused = _snap(graph.get_state(_thread()))
        resumed = list(graph.stream(lib.Command(resume="yes"), _thread(), stream_mode="values"))
        return {
            "first": first,
            "paused": paused,
            "resumed": resumed,
            "done": _snap(graph.get_state(_thread())),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_streams(lib):
    g = lib.StateGraph(Log)
    g.add_node("a", _say("a"))
    g.add_node("ask", _asker(lib, "ask"))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "ask")
    return Scenario(g.compile(checkpointer=lib.MemorySaver()), {"log": [], "n": 0}, _thread())


@case()
def case_two_interrupts_in_one_node(lib):
    def twice(state):
        first = lib.interrupt("first")
        second = lib.interrupt({"second": first})
        return {"log": [first, second]}

    g = lib.StateGraph(Log)
    g.add_node("twice", twice)
    g.add_edge(lib.START, "twice")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        return [
            graph.invoke({"log": [], "n": 0}, _thread()),
            graph.invoke(lib.Command(resume="A"), _thread()),
            graph.get_state(_thread()).interrupts,
            graph.invoke(lib.Command(resume="B"), _thread()),
        ]

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_with_finished_sibling(lib):
    calls = []

    def side(state):
        calls.append("side")
        return {"log": ["side"]}

    g = lib.StateGraph(Log)
    g.add_node("ask", _asker(lib, "ask"))
    g.add_node("side", side)
    g.add_node("join", _say("join"))
    g.add_edge(lib.START, "ask")
    g.add_edge(lib.START, "side")
    g.add_edge(["ask", "side"], "join")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        first = graph.invoke({"log": ["in"], "n": 0}, _thread())
        paused = _snap(graph.get_state(_thread()))
        resumed = list(
            graph.stream(lib.Command(resume="ok"), _thread(), stream_mode=["values", "updates"])
        )
        return {"first": first, "paused": paused, "resumed": resumed, "calls": calls}

    return Scenario(graph, mode="script", script=script)


@case()
def case_resume_parallel_interrupts_by_id(lib):
    g = lib.StateGraph(Log)
    g.add_node("p", _asker(lib, "p"))
    g.add_node("q", _asker(lib, "q"))
    g.add_edge(lib.START, "p")
    g.add_edge(lib.START, "q")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        first = graph.invoke({"log": [], "n": 0}, _thread())
        ids = {i.value: i.id for i in graph.get_state(_thread()).interrupts}
        second = graph.invoke(lib.Command(resume={ids["q?"]: "Q"}), _thread())
        third = graph.invoke(lib.Command(resume="P"), _thread())
        return {
            "first": sorted(i.value for i in first["__interrupt__"]),
            "second": second,
            "third": third,
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_update_state_as_node_then_continue(lib):
    graph = _chain(lib, "a", "b", "c", interrupt_before=["b"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.update_state(_thread(), {"n": 5, "log": ["human"]})
        updated = _snap(graph.get_state(_thread()))
        final = graph.invoke(None, _thread())
        graph.update_state(_thread(), {"log": ["late"]}, as_node="b")
        late = _snap(graph.get_state(_thread()))
        return {
            "updated": updated,
            "final": final,
            "late": late,
            "end": graph.invoke(None, _thread()),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_resume_command_update_and_goto(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        return [
            graph.invoke(lib.Command(update={"n": 5}, goto="b"), _thread()),
            graph.invoke(lib.Command(goto=lib.Send("a", {"log": ["sent"], "n": 9})), _thread()),
            _snap(graph.get_state(_thread())),
        ]

    return Scenario(graph, mode="script", script=script)


@case()
def case_recursion_limit_counts_per_invocation(lib):
    names = [f"n{i}" for i in range(12)]
    graph = _chain(lib, *names, interrupt_after=["n2"])

    def script(graph):
        config = {**_thread(), "recursion_limit": 3}
        first = graph.invoke({"log": [], "n": 0}, config)
        try:
            graph.invoke(None, config)
            second = "no error"
        except lib.GraphRecursionError:
            second = "GraphRecursionError"
        return {"first": first, "second": second, "state": _snap(graph.get_state(config))}

    return Scenario(graph, mode="script", script=script)


@case()
def case_fan_out_with_checkpointer(lib):
    def fan(state):
        return [lib.Send("work", {"log": [], "n": i}) for i in range(3)]

    def work(state):
        return {"log": [f"w{state['n']}"]}

    g = lib.StateGraph(Log)
    g.add_node("start", _say("start"))
    g.add_node("work", work)
    g.add_node("end", _say("end"))
    g.add_edge(lib.START, "start")
    g.add_conditional_edges("start", fan)
    g.add_edge("work", "end")
    graph = g.compile(checkpointer=lib.MemorySaver(), interrupt_before=["work"])

    def script(graph):
        first = graph.invoke({"log": [], "n": 0}, _thread())
        paused = _snap(graph.get_state(_thread()))
        final = graph.invoke(None, _thread())
        history = [(h.metadata["step"], h.next) for h in graph.get_state_history(_thread())]
        return {"first": first, "paused": paused, "final": final, "history": history}

    return Scenario(graph, mode="script", script=script)


@case()
def case_async_interrupt_and_resume(lib):
    async def ask(state):
        return {"log": [lib.interrupt("q")]}

    g = lib.StateGraph(Log)
    g.add_node("ask", ask)
    g.add_node("after", _say("after"))
    g.add_edge(lib.START, "ask")
    g.add_edge("ask", "after")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        async def go():
            first = await graph.ainvoke({"log": [], "n": 0}, _thread())
            chunks = [
                c
                async for c in graph.astream(
                    lib.Command(resume="A"), _thread(), stream_mode="updates"
                )
            ]
            return {
                "first": first,
                "chunks": chunks,
                "state": _snap(await graph.aget_state(_thread())),
            }

        return asyncio.run(go())

    return Scenario(graph, mode="script", script=script)


def _checkpoint_chunks(chunks, snapshot_config):
    """``checkpoints`` chunks with their ids replaced by their order of appearance."""
    names: dict = {}

    def name(config):
        if config is None:
            return None
        ident = config["configurable"]["checkpoint_id"]
        return names.setdefault(ident, len(names))

    out = [
        {
            "config": name(c["config"]),
            "parent": name(c["parent_config"]),
            "values": c["values"],
            "metadata": c["metadata"],
            "next": c["next"],
            "tasks": [(t["name"], t["interrupts"], t["state"], bool(t["id"])) for t in c["tasks"]],
        }
        for c in chunks
    ]
    return out, name(snapshot_config)


@case()
def case_checkpoints_stream(lib):
    g = lib.StateGraph(Log)
    g.add_node("a", _say("a"))
    g.add_node("b", _say("b"))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "b")
    graph = g.compile(checkpointer=lib.MemorySaver(), interrupt_after=["a"])

    def script(graph):
        first = list(graph.stream({"log": [], "n": 0}, _thread(), stream_mode="checkpoints"))
        snap = graph.get_state(_thread())
        debug = list(graph.stream({"log": [], "n": 0}, _thread("d"), stream_mode="debug"))
        checkpoints = [c["payload"] for c in debug if c["type"] == "checkpoint"]
        steps = [(c["type"], c["step"]) for c in debug]
        rest = list(graph.stream(None, _thread(), stream_mode=["checkpoints", "updates"]))
        resumed = [c for mode, c in rest if mode == "checkpoints"]
        return [
            [mode for mode, _ in rest],
            _checkpoint_chunks(first + resumed, graph.get_state(_thread()).config),
            _checkpoint_chunks(first, snap.config),
            _checkpoint_chunks(checkpoints, graph.get_state(_thread("d")).config),
            steps,
        ]

    return Scenario(graph, mode="script", script=script)


@case()
def case_checkpoints_stream_of_a_resumed_interrupt(lib):
    g = lib.StateGraph(Log)
    g.add_node("ask", _asker(lib, "ask"))
    g.add_edge(lib.START, "ask")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        first = list(graph.stream({"log": [], "n": 0}, _thread(), stream_mode="checkpoints"))
        resumed = list(
            graph.stream(lib.Command(resume="yes"), _thread(), stream_mode="checkpoints")
        )
        chunks, _ = _checkpoint_chunks(first + resumed, None)
        asked = [[i["value"] for t in c["tasks"] for i in t["interrupts"]] for c in resumed]
        for chunk in chunks:
            chunk["tasks"] = [(name, len(interrupts)) for name, interrupts, *_ in chunk["tasks"]]
        return [chunks, asked]

    return Scenario(graph, mode="script", script=script)


@case()
def case_pydantic_state_of_classes_defined_in_a_function(lib):
    import pydantic

    class Inner(pydantic.BaseModel):
        yo: int

    class Input(pydantic.BaseModel):
        query: str
        inner: Inner

    class State(Input):
        answer: str | None = None

    def rewrite(state):
        assert isinstance(state.inner, Inner)
        return {"query": f"q: {state.query}", "inner": Inner(yo=state.inner.yo + 1)}

    def answer(state):
        assert isinstance(state.inner, Inner)  # the stored dict validated back
        return {"answer": f"{state.query} {state.inner.yo}"}

    g = lib.StateGraph(State, input_schema=Input)
    g.add_node("rewrite", rewrite)
    g.add_node("answer", answer)
    g.add_edge(lib.START, "rewrite")
    g.add_edge("rewrite", "answer")
    graph = g.compile(checkpointer=lib.MemorySaver(), interrupt_after=["rewrite"])

    def script(graph):
        config = {"configurable": {"thread_id": "t"}}
        first = list(graph.stream(Input(query="sf", inner=Inner(yo=1)), config))
        paused = graph.get_state(config).values
        return [first, paused, list(graph.stream(None, config)), graph.get_state(config).values]

    return Scenario(graph, mode="script", script=script)
