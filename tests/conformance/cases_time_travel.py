"""Time travel: running a thread again from an earlier checkpoint (``invoke(None,
config)`` with its ``checkpoint_id``), after ``update_state``, or with a ``Command``.

Each script compares the whole history afterwards, snapshot by snapshot: source,
step, next nodes, values, tasks and interrupts, and each snapshot's parent by its
position in the history (ids are each library's own). The interesting part is the
``"fork"`` checkpoint a replay writes first, as the new branch's root.
"""

import asyncio
import operator
from typing import Annotated, TypedDict

from .cases_checkpoint import Log, _asker, _chain, _checkpoint_chunks, _say, _thread
from .cases_updates import _history
from .harness import Scenario, make_registry

CASES, case = make_registry()


def _full(graph, config):
    """``_history`` plus each task's interrupt values."""
    out = _history(graph, config)
    for row, snap in zip(out, graph.get_state_history(config), strict=True):
        row["asked"] = [[i.value for i in t.interrupts] for t in snap.tasks]
    return out


def _asking(lib, **compile_args):
    """START -> a -> ask (interrupts) -> b."""
    g = lib.StateGraph(Log)
    g.add_node("a", _say("a"))
    g.add_node("ask", _asker(lib, "ask"))
    g.add_node("b", _say("b"))
    g.add_edge(lib.START, "a")
    g.add_edge("a", "ask")
    g.add_edge("ask", "b")
    return g.compile(checkpointer=lib.MemorySaver(), **compile_args)


def _at(graph, nxt):
    """The newest snapshot of the thread whose next nodes are ``nxt``."""
    return next(s for s in graph.get_state_history(_thread()) if s.next == nxt)


@case()
def case_replay_from_before_a_node_forks(lib):
    graph = _chain(lib, "a", "b", "c")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        replayed = graph.invoke(None, _at(graph, ("b",)).config)
        return {"replayed": replayed, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_before_an_interrupt_then_resume(lib):
    graph = _asking(lib)

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.invoke(lib.Command(resume="old"), _thread())
        replayed = graph.invoke(None, _at(graph, ("ask",)).config)
        forked = _full(graph, _thread())
        resumed = graph.invoke(lib.Command(resume="new"), _thread())
        return {
            "replayed": replayed,
            "forked": forked,
            "resumed": resumed,
            "history": _full(graph, _thread()),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_of_the_head_checkpoint_forks_too(lib):
    graph = _asking(lib)

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        head = graph.get_state(_thread())
        again = graph.invoke(None, head.config)
        twice = graph.invoke(None, graph.get_state(_thread()).config)
        return {"again": again, "twice": twice, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_of_the_input_checkpoint(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        graph.invoke({"log": ["in"], "n": 1}, _thread())
        first = _at(graph, ("__start__",))
        return {"replayed": graph.invoke(None, first.config), "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_update_state_then_continue_does_not_fork(lib):
    graph = _chain(lib, "a", "b", "c")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        edited = graph.update_state(_at(graph, ("b",)).config, {"log": ["edit"]})
        first = graph.invoke(None, edited)
        again = graph.invoke(None, edited)  # the thread moved past the edit: a fork now
        return {"first": first, "again": again, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_command_update_at_an_earlier_checkpoint_forks(lib):
    graph = _chain(lib, "a", "b", "c")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        middle = _at(graph, ("b",)).config
        updated = graph.invoke(lib.Command(update={"n": 7}), middle)
        routed = graph.invoke(lib.Command(goto="c"), _at(graph, ("c",)).config)
        return {"updated": updated, "routed": routed, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_resume_naming_the_head_checkpoint_does_not_fork(lib):
    graph = _asking(lib)

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        paused = graph.get_state(_thread()).config
        done = graph.invoke(lib.Command(resume="yes"), paused)
        return {"done": done, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_async_replay_before_an_interrupt_then_resume(lib):
    graph = _asking(lib)

    def script(graph):
        async def go():
            await graph.ainvoke({"log": [], "n": 0}, _thread())
            await graph.ainvoke(lib.Command(resume="old"), _thread())
            before = [s async for s in graph.aget_state_history(_thread()) if s.next == ("ask",)]
            replayed = await graph.ainvoke(None, before[0].config)
            resumed = await graph.ainvoke(lib.Command(resume="new"), _thread())
            return {"replayed": replayed, "resumed": resumed}

        return {**asyncio.run(go()), "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_streams_the_fork_checkpoint(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        chunks = list(graph.stream(None, _at(graph, ("b",)).config, stream_mode="checkpoints"))
        return [
            (c["metadata"]["source"], c["metadata"]["step"], c["next"], c["values"]) for c in chunks
        ]

    return Scenario(graph, mode="script", script=script)


class Deep(TypedDict):
    log: Annotated[list, operator.add]


def _with_subgraph(lib, *, asks):
    """START -> pre -> sub (inner: x -> [ask ->] y) -> post, one saver for both."""
    inner = lib.StateGraph(Deep)
    inner.add_node("x", _say("x"))
    inner.add_node("y", _say("y"))
    inner.add_edge(lib.START, "x")
    if asks:
        inner.add_node("ask", _asker(lib, "inner"))
        inner.add_edge("x", "ask")
        inner.add_edge("ask", "y")
    else:
        inner.add_edge("x", "y")
    outer = lib.StateGraph(Deep)
    outer.add_node("pre", _say("pre"))
    outer.add_node("sub", inner.compile())
    outer.add_node("post", _say("post"))
    outer.add_edge(lib.START, "pre")
    outer.add_edge("pre", "sub")
    outer.add_edge("sub", "post")
    return outer.compile(checkpointer=lib.MemorySaver())


def _with_namespaces(graph):
    """Every checkpoint the saver holds for the thread, subgraphs' too: for each
    namespace (shown without its task id), its checkpoints as the saver lists them
    (newest first) as source, step and the parent's position. (How a saver
    interleaves namespaces when it lists them all differs between LangGraph's
    own savers.)"""
    groups: dict = {}
    for saved in graph.checkpointer.list(_thread()):
        groups.setdefault(saved.config["configurable"]["checkpoint_ns"], []).append(saved)
    out = []
    for ns, saved in groups.items():
        where = {t.config["configurable"]["checkpoint_id"]: i for i, t in enumerate(saved)}
        chain = [
            (
                t.metadata["source"],
                t.metadata["step"],
                where.get(t.parent_config["configurable"]["checkpoint_id"])
                if t.parent_config
                else None,
            )
            for t in saved
        ]
        out.append((ns.split(":")[0], chain))
    return sorted(out, key=repr)


def _root_history(graph):
    return [(s.metadata["source"], s.next, s.values) for s in graph.get_state_history(_thread())]


@case()
def case_replay_before_an_interrupting_subgraph_then_resume(lib):
    graph = _with_subgraph(lib, asks=True)

    def script(graph):
        graph.invoke({"log": []}, _thread())
        graph.invoke(lib.Command(resume="old"), _thread())
        replayed = graph.invoke(None, _at(graph, ("sub",)).config)
        forked = _with_namespaces(graph)
        resumed = graph.invoke(lib.Command(resume="new"), _thread())
        return {
            "replayed": replayed,
            "forked": forked,
            "resumed": resumed,
            "history": _with_namespaces(graph),
            "root": _full(graph, {"configurable": {"thread_id": "t", "checkpoint_ns": ""}}),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_before_a_subgraph_node(lib):
    graph = _with_subgraph(lib, asks=False)

    def script(graph):
        graph.invoke({"log": []}, _thread())
        replayed = graph.invoke(None, _at(graph, ("sub",)).config)
        return {"replayed": replayed, "history": _with_namespaces(graph)}

    return Scenario(graph, mode="script", script=script)


@case()
def case_put_writes_stands_in_for_a_pending_task(lib):
    graph = _chain(lib, "a", "b", "c", interrupt_before=["b"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        paused = graph.get_state(_thread())
        [task] = paused.tasks
        graph.checkpointer.put_writes(paused.config, [("log", ["B*"]), ("n", 5)], task.id)
        done = graph.invoke(None, _thread())
        return {"done": done, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_put_writes_of_the_null_task_apply_before_the_step(lib):
    graph = _chain(lib, "a", "b", interrupt_before=["b"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        paused = graph.get_state(_thread()).config
        null = "00000000-0000-0000-0000-000000000000"
        graph.checkpointer.put_writes(paused, [("log", ["U"]), ("n", 2)], null)
        done = graph.invoke(None, _thread())
        return {"done": done, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_async_put_writes(lib):
    graph = _chain(lib, "a", "b", interrupt_before=["b"])

    def script(graph):
        async def go():
            await graph.ainvoke({"log": [], "n": 0}, _thread())
            paused = await graph.aget_state(_thread())
            saver = graph.checkpointer
            await saver.aput_writes(paused.config, [("log", ["B*"])], paused.tasks[0].id)
            return await graph.ainvoke(None, _thread())

        return {"done": asyncio.run(go()), "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_from_a_subgraph_checkpoint(lib):
    graph = _with_subgraph(lib, asks=True)

    def script(graph):
        graph.invoke({"log": []}, _thread())
        paused = graph.get_state(_thread(), subgraphs=True)
        inner = paused.tasks[0].state
        replayed = graph.invoke(None, inner.config)
        forked = _with_namespaces(graph)
        resumed = graph.invoke(lib.Command(resume="late"), _thread())
        return {
            "replayed": replayed,
            "forked": forked,
            "resumed": resumed,
            "history": _with_namespaces(graph),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_from_an_earlier_subgraph_checkpoint(lib):
    graph = _with_subgraph(lib, asks=True)

    def script(graph):
        graph.invoke({"log": []}, _thread())
        graph.invoke(lib.Command(resume="first"), _thread())
        [asking] = [
            t
            for t in graph.checkpointer.list(_thread())
            if t.config["configurable"]["checkpoint_ns"] and t.metadata["step"] == 1
        ]
        inner = graph.get_state(asking.config)  # its config has the checkpoint_map
        replayed = graph.invoke(None, inner.config)
        resumed = graph.invoke(lib.Command(resume="second"), _thread())
        return {
            "inner": (inner.next, inner.values),
            "replayed": replayed,
            "resumed": resumed,
            "history": _with_namespaces(graph),
            "root": _root_history(graph),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_streams(lib):
    graph = _asking(lib)

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.invoke(lib.Command(resume="old"), _thread())
        config = _at(graph, ("ask",)).config
        modes = ["values", "updates", "tasks"]
        chunks = list(graph.stream(None, config, stream_mode=modes))
        shown = [(mode, (c["name"], sorted(c)) if mode == "tasks" else c) for mode, c in chunks]
        return {"chunks": shown, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_with_durability_exit(lib):
    graph = _chain(lib, "a", "b", "c")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        replayed = graph.invoke(None, _at(graph, ("b",)).config, durability="exit")
        return {"replayed": replayed, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_from_an_update_after_the_thread_moved_on(lib):
    graph = _asking(lib)

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        edited = graph.update_state(_thread(), {"n": 3})
        graph.invoke(lib.Command(resume="one"), _thread())
        again = graph.invoke(None, edited)
        done = graph.invoke(lib.Command(resume="two"), _thread())
        return {"again": again, "done": done, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_with_breakpoints(lib):
    graph = _chain(lib, "a", "b", "c", interrupt_before=["c"], interrupt_after=["a"])

    def script(graph):
        seen = [graph.invoke({"log": [], "n": 0}, _thread())]
        seen += [graph.invoke(None, _thread()), graph.invoke(None, _thread())]
        seen.append(graph.invoke(None, _at(graph, ("b",)).config))  # stops before c again
        seen.append(graph.invoke(None, _at(graph, ("c",)).config))  # at the breakpoint: goes on
        seen.append(graph.invoke(None, _thread()))
        return {"seen": seen, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_of_a_fan_out_step_reruns_every_task(lib):
    calls = []

    def work(state):
        calls.append(state["i"])
        if state["i"] == 1:
            return {"log": [f"w1={lib.interrupt('w1?')}"]}
        return {"log": [f"w{state['i']}"]}

    g = lib.StateGraph(Log)
    g.add_node("fan", _say("fan"))
    g.add_node("w", work)
    g.add_edge(lib.START, "fan")
    g.add_conditional_edges("fan", lambda s: [lib.Send("w", {"i": i}) for i in range(3)])
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.invoke(lib.Command(resume="x"), _thread())
        calls.clear()
        fanned = next(s for s in graph.get_state_history(_thread()) if "w" in s.next)
        replayed = graph.invoke(None, fanned.config)
        rerun = sorted(calls)
        done = graph.invoke(lib.Command(resume="y"), _thread())
        return {
            "replayed": replayed,
            "rerun": rerun,
            "done": done,
            "history": _full(graph, _thread()),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_keeps_the_update_writes_of_the_checkpoint(lib):
    graph = _chain(lib, "a", "b", interrupt_before=["b"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        paused = graph.get_state(_thread()).config
        null = "00000000-0000-0000-0000-000000000000"
        graph.checkpointer.put_writes(paused, [("log", ["U"]), ("n", 2)], null)
        first = graph.invoke(None, _thread())
        again = graph.invoke(None, paused)
        return {"first": first, "again": again, "history": _full(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_replay_debug_stream(lib):
    graph = _asking(lib)

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.invoke(lib.Command(resume="old"), _thread())
        config = _at(graph, ("ask",)).config
        debug = list(graph.stream(None, config, stream_mode="debug"))
        steps = [(c["type"], c["step"]) for c in debug]
        checkpoints = [c["payload"] for c in debug if c["type"] == "checkpoint"]
        return {
            "steps": steps,
            "checkpoints": _checkpoint_chunks(checkpoints, graph.get_state(_thread()).config),
        }

    return Scenario(graph, mode="script", script=script)
