"""Options given to one invoke/stream call: durability, printing, and bad options."""

from __future__ import annotations

import operator
from typing import Annotated

import pytest
from typing_extensions import TypedDict

from graphpool import START, StateGraph
from graphpool.checkpoint import InMemorySaver
from graphpool.errors import InvalidConfigError


class S(TypedDict):
    log: Annotated[list, operator.add]


def _graph(saver, seen):
    def a(state: S) -> S:
        return {"log": ["a"]}

    def b(state: S) -> S:  # what the saver holds while the run is still going
        saved = saver.get_tuple({"configurable": {"thread_id": "t"}})
        seen.append(None if saved is None else saved.checkpoint.values.get("log"))
        return {"log": ["b"]}

    builder = StateGraph(S)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    return builder.compile(checkpointer=saver)


@pytest.mark.parametrize(("durability", "mid_run"), [("sync", ["a"]), ("exit", None)])
def test_durability_exit_writes_only_when_the_run_ends(durability, mid_run) -> None:
    saver, seen = InMemorySaver(), []
    config = {"configurable": {"thread_id": "t"}}
    result = _graph(saver, seen).invoke({"log": []}, config, durability=durability)
    assert result == {"log": ["a", "b"]}
    assert seen == [mid_run]  # with "exit", a crash here would lose the whole run
    assert saver.get_tuple(config).checkpoint.values == {"log": ["a", "b"]}


def test_durability_exit_keeps_what_an_error_left() -> None:
    saver = InMemorySaver()
    builder = StateGraph(S)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_node("boom", lambda s: 1 / 0)
    builder.add_edge(START, "a")
    builder.add_edge("a", "boom")
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(ZeroDivisionError):
        graph.invoke({"log": []}, config, durability="exit")
    state = graph.get_state(config)
    assert state.values == {"log": ["a"]} and state.next == ("boom",)


def test_bad_call_options_fail_where_given() -> None:
    graph = _graph(InMemorySaver(), [])
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(InvalidConfigError, match="durability='later'"):
        graph.invoke({"log": []}, config, durability="later")
    with pytest.raises(InvalidConfigError, match="stream_mode 'valuez'"):
        list(graph.stream({"log": []}, config, stream_mode="valuez"))
    with pytest.raises(InvalidConfigError, match="checkpoint_during"):
        graph.invoke({"log": []}, config, checkpoint_during=True)
    with pytest.raises(InvalidConfigError, match="version='v3'"):
        list(graph.stream({"log": []}, config, version="v3"))
    with pytest.raises(InvalidConfigError, match="version=2"):
        graph.invoke({"log": []}, config, version=2)


def test_v2_parts_name_their_mode_and_namespace() -> None:
    graph = _graph(InMemorySaver(), [])
    config = {"configurable": {"thread_id": "v2"}}
    parts = list(graph.stream({"log": []}, config, stream_mode=["updates", "values"], version="v2"))
    assert [(p["type"], p["ns"]) for p in parts] == [
        ("values", ()),
        ("updates", ()),
        ("values", ()),
        ("updates", ()),
        ("values", ()),
    ]
    assert parts[-1] == {"type": "values", "ns": (), "data": {"log": ["a", "b"]}, "interrupts": ()}
    assert parts[1]["data"] == {"a": {"log": ["a"]}}


def test_invoke_v2_gives_a_graph_output() -> None:
    graph = _graph(InMemorySaver(), [])
    result = graph.invoke({"log": []}, {"configurable": {"thread_id": "out"}}, version="v2")
    assert type(result).__name__ == "GraphOutput"
    assert (result.value, result.interrupts) == ({"log": ["a", "b"]}, ())
    with pytest.warns(DeprecationWarning):
        assert result["log"] == ["a", "b"]
    with pytest.warns(DeprecationWarning):
        assert "__interrupt__" not in result


def test_debug_prints_the_debug_stream(capsys) -> None:
    graph = _graph(InMemorySaver(), [])
    config = {"configurable": {"thread_id": "t"}}
    assert graph.invoke({"log": []}, config, debug=True) == {"log": ["a", "b"]}
    printed = capsys.readouterr().out
    assert "[debug]" in printed and "'name': 'a'" in printed and "task_result" in printed


def test_a_reused_call_never_carries_options_into_a_later_call(capsys) -> None:
    """Calls that give only a stream mode share one checked ``Call``; options given
    to one call (or set on the graph since) still reach only the calls they belong to."""
    builder = StateGraph(S)
    builder.add_node("a", lambda s: {"log": ["a"]})
    builder.add_edge(START, "a")
    graph = builder.compile()
    assert graph.invoke({"log": []}) == {"log": ["a"]}
    assert capsys.readouterr().out == ""
    graph.invoke({"log": []}, debug=True)
    assert "[debug]" in capsys.readouterr().out
    assert graph.invoke({"log": []}) == {"log": ["a"]}
    assert capsys.readouterr().out == ""
    assert list(graph.stream({"log": []}, stream_mode="updates")) == [{"a": {"log": ["a"]}}]
    assert list(graph.stream({"log": []}, stream_mode="values")) == [{"log": []}, {"log": ["a"]}]
    assert list(graph.stream({"log": []})) == [{"a": {"log": ["a"]}}]  # LangGraph's default
    graph.invoke({"log": []}, print_mode="updates")
    assert "[updates]" in capsys.readouterr().out
    graph.debug = True  # the graph's own default, changed after calls were reused
    graph.invoke({"log": []})
    assert "[debug]" in capsys.readouterr().out
    graph.debug = False
    assert graph.invoke({"log": []}) == {"log": ["a"]}
    assert capsys.readouterr().out == ""
