"""Graph building and compile-time validation: bad graphs fail at compile() naming the culprit."""

from __future__ import annotations

import operator
from typing import Annotated, Literal, TypedDict

import pytest

from graphpool import END, START, InvalidGraphError, StateGraph


class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]


def f(state: S) -> dict:
    return {"x": 1}


def test_unknown_edge_target_names_it() -> None:
    b = StateGraph(S)
    b.add_node("a", f)
    b.add_edge(START, "a")
    b.add_edge("a", "nope")
    with pytest.raises(InvalidGraphError, match="'nope'"):
        b.compile()


def test_unknown_edge_source_names_it() -> None:
    b = StateGraph(S)
    b.add_node("a", f)
    b.add_edge(START, "a")
    b.add_edge("ghost", "a")
    with pytest.raises(InvalidGraphError, match="'ghost'"):
        b.compile()


def test_no_entry_point() -> None:
    b = StateGraph(S)
    b.add_node("a", f)
    with pytest.raises(InvalidGraphError, match="entry point"):
        b.compile()


@pytest.mark.parametrize("name", [START, END])
def test_reserved_names(name: str) -> None:
    with pytest.raises(InvalidGraphError, match="reserved"):
        StateGraph(S).add_node(name, f)


def test_duplicate_node() -> None:
    b = StateGraph(S).add_node("a", f)
    with pytest.raises(InvalidGraphError, match="'a' already exists"):
        b.add_node("a", f)


def test_invalid_graph_error_is_value_error() -> None:
    # LangGraph raises ValueError for these; existing handlers keep working.
    assert issubclass(InvalidGraphError, ValueError)


def test_path_map_to_unknown_node_fails_at_compile() -> None:
    b = StateGraph(S)
    b.add_node("a", f)
    b.add_edge(START, "a")
    b.add_conditional_edges("a", lambda s: "x", {"x": "missing"})
    with pytest.raises(InvalidGraphError, match="'missing'"):
        b.compile()


def test_literal_return_hint_is_a_path_map() -> None:
    def route(state: S) -> Literal["b", "ghost"]:
        return "b"

    b = StateGraph(S)
    b.add_node("a", f)
    b.add_node("b", f)
    b.add_edge(START, "a")
    b.add_conditional_edges("a", route)
    with pytest.raises(InvalidGraphError, match="'ghost'"):
        b.compile()


def test_add_node_by_function_name_and_sequence() -> None:
    def first(state: S) -> dict:
        return {"log": ["first"]}

    def second(state: S) -> dict:
        return {"log": ["second"]}

    b = StateGraph(S)
    b.add_sequence([first, second])
    b.add_edge(START, "first")
    assert b.compile().invoke({"x": 0})["log"] == ["first", "second"]


def test_bad_reducer_signature() -> None:
    class Bad(TypedDict):
        x: Annotated[int, lambda a: a]

    with pytest.raises(InvalidGraphError, match="'x'"):
        StateGraph(Bad)


def test_schema_without_keys() -> None:
    class Empty(TypedDict):
        pass

    with pytest.raises(InvalidGraphError, match="no keys"):
        StateGraph(Empty)


def test_compile_twice_and_change_after_compile_warns() -> None:
    b = StateGraph(S).add_node("a", f)
    b.add_edge(START, "a")
    g1 = b.compile()
    with pytest.warns(UserWarning, match="after compile"):
        b.add_node("b", f)
    assert "b" not in g1.topology.nodes
    assert "b" in b.compile().topology.nodes


def test_set_node_defaults_apply_where_a_node_sets_nothing() -> None:
    import datetime

    from graphpool import CachePolicy, RetryPolicy

    calls = []

    def flaky(state):
        calls.append(1)
        if len(calls) < 2:
            raise ConnectionError("once")
        return {}

    class One(TypedDict):
        x: int

    builder = StateGraph(One)
    builder.add_node("flaky", flaky)
    builder.add_node("own", lambda s: {}, timeout=5.0)
    builder.add_edge(START, "flaky")
    builder.add_edge("flaky", "own")
    policy = RetryPolicy(max_attempts=2, initial_interval=0.01, jitter=False)
    builder.set_node_defaults(
        retry_policy=policy, timeout=datetime.timedelta(seconds=30), cache_policy=CachePolicy()
    )
    graph = builder.compile()
    graph.invoke({"x": 1})
    assert len(calls) == 2  # the default retry policy retried it
    nodes = graph.topology.nodes
    assert graph.topology.timeouts["flaky"] == 30.0 and graph.topology.timeouts["own"] == 5.0
    assert nodes["flaky"].cache_policy == CachePolicy()
    with pytest.raises(InvalidGraphError, match="error_handler"):
        builder.set_node_defaults(error_handler="not a function")


def test_defer_is_refused_in_eager_scheduling() -> None:
    builder = StateGraph(S)
    builder.add_node("d", lambda s: {}, defer=True)
    builder.add_edge(START, "d")
    with pytest.raises(InvalidGraphError, match="defer=True"):
        builder.compile(scheduling="eager")


def test_str_enum_node_names_run_and_stream_under_their_member() -> None:
    import enum

    class Name(str, enum.Enum):
        FIRST = "first"
        SECOND = "second"

    class One(TypedDict):
        x: int

    builder = StateGraph(One)
    builder.add_node(Name.FIRST, lambda s: {"x": s["x"] * 10})
    builder.add_node(Name.SECOND, lambda s: {"x": s["x"] + 1})
    builder.add_edge(START, Name.FIRST)
    builder.add_edge(Name.FIRST, Name.SECOND)
    graph = builder.compile()
    assert graph.invoke({"x": 2}) == {"x": 21}
    updates = list(graph.stream({"x": 2}, stream_mode="updates"))
    assert updates == [{"first": {"x": 20}}, {"second": {"x": 21}}]
    assert [type(next(iter(u))) for u in updates] == [Name, Name]  # LangGraph's keys


def test_compiled_nodes_are_listed_and_copied() -> None:
    from graphpool.errors import InvalidGraphError

    builder = StateGraph(S)
    builder.add_node("a", lambda s: {})
    builder.add_node("b", lambda s: {}, error_handler=lambda s: {})
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    graph = builder.compile()
    assert list(graph.nodes) == ["a", "__error_handler__b", "b"]
    moved = graph.nodes["a"].copy({"executor": "process"})
    assert (moved.name, moved.executor, graph.nodes["a"].executor) == ("a", "process", None)
    with pytest.raises(InvalidGraphError, match="unknown fields"):
        graph.nodes["a"].copy({"nope": 1})
    with pytest.raises(TypeError):
        graph.nodes["x"] = moved  # type: ignore[index]
