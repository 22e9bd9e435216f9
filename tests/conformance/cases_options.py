"""Per-call options of invoke/stream, compared with LangGraph: breakpoints given to
one run, ``subgraphs=True`` chunk shapes, ``durability``, and ``invoke`` with a
``stream_mode`` other than ``values``."""

from .cases_checkpoint import Log as _Log
from .cases_checkpoint import _chain, _snap, _thread
from .harness import Scenario, make_registry

CASES, case = make_registry()


@case()
def case_interrupt_before_given_to_one_run(lib):
    graph = _chain(lib, "a", "b", "c")

    def script(graph):
        first = list(graph.stream({"log": [], "n": 0}, _thread(), interrupt_before=["b"]))
        paused = _snap(graph.get_state(_thread()))
        rest = list(graph.stream(None, _thread()))
        return {"first": first, "paused": paused, "rest": rest}

    return Scenario(graph, mode="script", script=script)


@case()
def case_interrupt_after_given_to_one_invoke(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        first = graph.invoke({"log": [], "n": 0}, _thread(), interrupt_after=["a"])
        return {"first": first, "next": graph.get_state(_thread()).next}

    return Scenario(graph, mode="script", script=script)


@case()
def case_subgraphs_true_namespaces_every_chunk(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        one = list(graph.stream({"log": [], "n": 0}, _thread("x"), subgraphs=True))
        two = list(
            graph.stream(
                {"log": [], "n": 0}, _thread("y"), stream_mode=["values", "updates"], subgraphs=True
            )
        )
        return {"one": one, "two": two}

    return Scenario(graph, mode="script", script=script)


@case()
def case_durability_modes_keep_the_final_state(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        out = {}
        for mode in ("sync", "async", "exit"):
            out[mode] = graph.invoke({"log": [], "n": 0}, _thread(mode), durability=mode)
            out[mode + " state"] = _snap(graph.get_state(_thread(mode)))
        return out

    return Scenario(graph, mode="script", script=script)


@case()
def case_invoke_with_updates_mode_returns_the_chunks(lib):
    graph = _chain(lib, "a", "b")

    def script(graph):
        return graph.invoke({"log": [], "n": 0}, _thread(), stream_mode="updates")

    return Scenario(graph, mode="script", script=script)


@case()
def case_resume_updates_survive_a_later_interrupt(lib):
    g = lib.StateGraph(_Log)

    def ask(state):
        first = lib.interrupt("one?")
        second = lib.interrupt("two?")
        return {"log": [f"ask:{first}{second}"]}

    g.add_node("ask", ask)
    g.add_edge(lib.START, "ask")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        out = [graph.invoke({"log": []}, _thread())]
        out.append(graph.invoke(lib.Command(resume="1", update={"log": ["u1"]}), _thread()))
        out.append(graph.invoke(lib.Command(resume="2", update={"log": ["u2"]}), _thread()))
        state = graph.get_state(_thread())
        return {"calls": out, "final": _snap(state)}

    return Scenario(graph, mode="script", script=script)


@case()
def case_a_step_record_keeps_answered_interrupts(lib):
    g = lib.StateGraph(_Log)
    g.add_node("a", lambda s: {"log": [f"a:{lib.interrupt('A?')}"]})
    g.add_node("b", lambda s: {"log": [f"b:{lib.interrupt('B?')}"]})
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        graph.invoke({"log": []}, _thread())
        live = graph.get_state(_thread())
        answer = {i.id: "yes" for i in live.interrupts if i.value == "A?"}
        graph.invoke(lib.Command(resume=answer), _thread())
        live = graph.get_state(_thread())
        record = graph.get_state(live.config)
        return {
            "live": [(t.name, [i.value for i in t.interrupts], t.result) for t in live.tasks],
            "record": [(t.name, [i.value for i in t.interrupts], t.result) for t in record.tasks],
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_overwrite_in_its_json_form(lib):
    g = lib.StateGraph(_Log)
    g.add_node("a", lambda s: {"log": ["a"]})
    g.add_node("b", lambda s: {"log": {"__overwrite__": ["reset"]}})
    g.add_edge(lib.START, "a")
    g.add_edge("a", "b")
    return Scenario(g.compile(), {"log": ["start"]})


@case()
def case_a_deferred_node_waits_for_the_rest(lib):
    g = lib.StateGraph(_Log)
    for name in "abc":
        g.add_node(name, lambda s, name=name: {"log": [name]})
    g.add_node("d", lambda s: {"log": [f"d saw {len(s['log'])}"]}, defer=True)
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    g.add_edge("b", "c")
    g.add_edge("a", "d")
    g.add_edge("c", "d")
    g.add_edge("d", lib.END)
    return Scenario(g.compile(), {"log": []})
