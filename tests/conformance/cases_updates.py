"""Editing a thread's history: ``update_state``, ``bulk_update_state``, ``"__copy__"``,
``"__input__"`` and ``END``, compared snapshot by snapshot (with each snapshot's
parent, by position in the history) after the edit and after the thread runs on."""

from .cases_checkpoint import Log, _say, _thread
from .harness import Scenario, make_registry

CASES, case = make_registry()


def _graph(lib, edges, *, fan=None, **compile_args):
    """Nodes named in ``edges`` saying their name; ``fan``: a node sending to "w"."""
    g = lib.StateGraph(Log)
    names = dict.fromkeys(n for e in edges for n in e if n not in (lib.START, lib.END, "w"))
    for name in names:
        g.add_node(name, _say(name))
    if fan is not None:
        g.add_node("w", lambda s: {"log": [f"w{s['i']}"]})
        g.add_conditional_edges(fan, lambda s: [lib.Send("w", {"i": i}) for i in range(2)])
    for a, b in edges:
        g.add_edge(a, b)
    return g.compile(checkpointer=lib.MemorySaver(), **compile_args)


def _history(graph, config):
    """Every snapshot's comparable fields; ``parent`` is the parent's position."""
    snaps = list(graph.get_state_history(config))
    where = {s.config["configurable"]["checkpoint_id"]: i for i, s in enumerate(snaps)}
    out = []
    for s in snaps:
        parent = s.parent_config["configurable"]["checkpoint_id"] if s.parent_config else None
        out.append(
            {
                "values": s.values,
                "next": s.next,
                "source": s.metadata["source"],
                "step": s.metadata["step"],
                "tasks": [(t.name, t.result) for t in s.tasks],
                "parent": where.get(parent),
            }
        )
    return out


@case()
def case_bulk_update_rebuilds_a_run_step_by_step(lib):
    graph = _graph(lib, [(lib.START, "a"), ("a", "b")])

    def script(graph):
        graph.bulk_update_state(
            _thread(),
            [
                [({"log": [], "n": 0}, "__input__", None)],
                [({"log": ["in"], "n": 1}, "__start__", None)],
                [({"log": ["A"]}, "a", None)],
                [({"log": ["B"]}, "b", None)],
            ],
        )
        return _history(graph, _thread())

    return Scenario(graph, mode="script", script=script)


@case()
def case_bulk_update_several_nodes_in_one_superstep(lib):
    graph = _graph(
        lib, [(lib.START, "a"), (lib.START, "b"), ("a", "c"), ("b", "d")], interrupt_before=["a"]
    )

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        edited = graph.bulk_update_state(
            _thread(), [[({"log": ["x"]}, "b", None), ({"log": ["y"]}, "a", None)]]
        )
        before_run = _history(graph, _thread())
        return {
            "edited": graph.get_state(edited).values,
            "history": before_run,
            "run": graph.invoke(None, _thread()),
        }

    return Scenario(graph, mode="script", script=script)


@case()
def case_update_replaces_the_pending_step(lib):
    graph = _graph(lib, [(lib.START, "a"), (lib.START, "b"), ("a", "c")], interrupt_before=["a"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.update_state(_thread(), {"n": 7}, as_node="c")
        return {"history": _history(graph, _thread()), "run": graph.invoke(None, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_update_of_sends_reuses_their_task_ids(lib):
    graph = _graph(lib, [(lib.START, "f"), ("w", "z")], fan="f", interrupt_after=["f"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.bulk_update_state(
            _thread(), [[({"log": ["w7"]}, "w", None), ({"log": ["w8"]}, "w", None)]]
        )
        return {"history": _history(graph, _thread()), "run": graph.invoke(None, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_copy_forks_a_sibling_that_runs_again(lib):
    graph = _graph(lib, [(lib.START, "a"), ("a", "b"), ("b", "c")])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        middle = next(s for s in graph.get_state_history(_thread()) if s.next == ("b",))
        fork = graph.update_state(middle.config, None, as_node="__copy__")
        copied = _history(graph, _thread())
        return {"copied": copied, "run": graph.invoke(None, fork), "after": _history(graph, fork)}

    return Scenario(graph, mode="script", script=script)


@case()
def case_copy_with_updates_edits_the_copy(lib):
    graph = _graph(lib, [(lib.START, "f"), ("w", "z")], fan="f")

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        fanned = next(s for s in graph.get_state_history(_thread()) if "w" in s.next)
        updates = [({"log": ["W1"]}, "w", None), ({"log": ["W2"]}, "w", None)]
        fork = graph.update_state(fanned.config, updates, as_node="__copy__")
        return {"run": graph.invoke(None, fork), "history": _history(graph, _thread())}

    return Scenario(graph, mode="script", script=script)


@case()
def case_update_as_end_closes_the_pending_step(lib):
    graph = _graph(lib, [(lib.START, "a"), ("a", "b")], interrupt_before=["b"])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        graph.update_state(_thread(), None, as_node=lib.END)
        return {"history": _history(graph, _thread()), "state": graph.get_state(_thread()).next}

    return Scenario(graph, mode="script", script=script)


@case(expect="InvalidUpdateError")
def case_several_updates_need_as_node(lib):
    graph = _graph(lib, [(lib.START, "a")])

    def script(graph):
        graph.invoke({"log": [], "n": 0}, _thread())
        return graph.bulk_update_state(
            _thread(), [[({"n": 1}, None, None), ({"n": 2}, None, None)]]
        )

    return Scenario(graph, mode="script", script=script)


@case(expect="InvalidUpdateError")
def case_copy_of_nothing_is_refused(lib):
    graph = _graph(lib, [(lib.START, "a")])

    def script(graph):
        return graph.update_state(_thread(), None, as_node="__copy__")

    return Scenario(graph, mode="script", script=script)


@case(expect="ValueError", graphpool_expect="InvalidConfigError")
def case_bulk_update_without_supersteps_is_a_value_error(lib):
    graph = _graph(lib, [(lib.START, "a")])

    def script(graph):
        return graph.bulk_update_state(_thread(), [])

    return Scenario(graph, mode="script", script=script)
