"""graphpool.graph.message: add_messages against LangGraph's, and the lazy langchain import."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.graph.message import add_messages as lg_add_messages
from lc_fakes import UUID_RE

from graphpool.graph import REMOVE_ALL_MESSAGES, MessagesState, add_messages

SRC = str(Path(__file__).resolve().parents[1] / "src")


def shape(messages: list[Any]) -> list[tuple]:
    """Type, content and id of each message; uuid4 ids (drawn at random) as "<uuid>"."""
    out = []
    for m in messages:
        ident = "<uuid>" if m.id and UUID_RE.match(m.id) else m.id
        out.append((type(m).__name__, m.content, ident, getattr(m, "tool_call_id", None)))
    return out


def both(left_factory, right_factory) -> tuple[Any, Any]:
    """Run both reducers on fresh copies (add_messages assigns ids in place)."""
    results = []
    for reducer in (lg_add_messages, add_messages):
        try:
            results.append(("ok", shape(reducer(left_factory(), right_factory()))))
        except Exception as exc:
            # the builtin classes an ``except`` could catch it as: graphpool raises its
            # own errors that keep LangGraph's builtin base
            builtin = [c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"]
            results.append(("error", builtin[0], str(exc)))
    return results[0], results[1]


EXAMPLES = {
    "append": (
        lambda: [HumanMessage("a", id="1")],
        lambda: [AIMessage("b", id="2")],
    ),
    "replace by id": (
        lambda: [HumanMessage("a", id="1"), AIMessage("b", id="2")],
        lambda: [HumanMessage("a again", id="1")],
    ),
    "single message, no ids": (lambda: HumanMessage("a"), lambda: AIMessage("b")),
    "dict, tuple and string coercion": (
        lambda: [{"role": "user", "content": "hi", "id": "u"}],
        lambda: [("assistant", "hello"), "plain text", {"role": "system", "content": "s"}],
    ),
    "chunk becomes message": (
        lambda: [],
        lambda: [AIMessageChunk(content="partial", id="c")],
    ),
    "remove one": (
        lambda: [HumanMessage("a", id="1"), AIMessage("b", id="2"), HumanMessage("c", id="3")],
        lambda: [RemoveMessage(id="2")],
    ),
    "remove then re-add in one update": (
        lambda: [HumanMessage("a", id="1"), AIMessage("b", id="2")],
        lambda: [RemoveMessage(id="2"), AIMessage("b2", id="2")],
    ),
    "remove unknown id": (lambda: [HumanMessage("a", id="1")], lambda: [RemoveMessage(id="x")]),
    "remove all": (
        lambda: [HumanMessage("a", id="1"), AIMessage("b", id="2")],
        lambda: [
            AIMessage("dropped", id="9"),
            RemoveMessage(id=REMOVE_ALL_MESSAGES),
            SystemMessage("fresh", id="s"),
        ],
    ),
    "new id added twice in one update": (
        lambda: [],
        lambda: [AIMessage("first", id="n"), AIMessage("second", id="n")],
    ),
    "tool message": (
        lambda: [AIMessage("", id="a", tool_calls=[{"name": "t", "args": {}, "id": "c1"}])],
        lambda: [ToolMessage("result", tool_call_id="c1")],
    ),
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_add_messages_matches_langgraph(name: str) -> None:
    expected, actual = both(*EXAMPLES[name])
    assert actual[0] == expected[0]
    if expected[0] == "ok":
        assert actual == expected
    else:
        assert actual[1] == expected[1]  # same exception type


def test_remove_unknown_id_message_names_the_id() -> None:
    with pytest.raises(ValueError, match="'x'"):
        add_messages([HumanMessage("a", id="1")], [RemoveMessage(id="x")])


def test_ids_are_assigned_in_place_and_unique() -> None:
    left = [HumanMessage("a")]
    right = [AIMessage("b"), AIMessage("c")]
    merged = add_messages(left, right)
    assert merged[0] is left[0] and merged[1] is right[0]
    ids = [m.id for m in merged]
    assert all(UUID_RE.match(i) for i in ids) and len(set(ids)) == 3


def test_configured_reducer_and_one_sided_calls() -> None:
    reducer = add_messages(format="langchain-openai")
    merged = reducer(
        [HumanMessage("a", id="1")],
        [HumanMessage(content=[{"type": "text", "text": "b"}], id="2")],
    )
    assert shape(merged) == shape(
        lg_add_messages(format="langchain-openai")(
            [HumanMessage("a", id="1")],
            [HumanMessage(content=[{"type": "text", "text": "b"}], id="2")],
        )
    )
    with pytest.raises(ValueError):
        add_messages([HumanMessage("a")], None)
    with pytest.raises(ValueError, match="Unrecognized format='xml'"):  # LangGraph's words
        add_messages([], [HumanMessage("a")], format="xml")


ids = st.sampled_from(["a", "b", "c", "d", None])
kinds = st.sampled_from(["human", "ai", "remove"])


@st.composite
def updates(draw: Any) -> list[tuple[str, str | None, int]]:
    return draw(st.lists(st.tuples(kinds, ids, st.integers(0, 9)), max_size=6))


def build(spec: list[tuple[str, str | None, int]], *, removals: bool) -> list[Any]:
    out: list[Any] = []
    for kind, ident, n in spec:
        if kind == "remove" and removals and ident is not None:
            out.append(RemoveMessage(id=ident))
        elif kind == "ai":
            out.append(AIMessage(f"ai {n}", id=ident))
        else:
            out.append(HumanMessage(f"human {n}", id=ident))
    return out


@settings(max_examples=150, deadline=None)
@given(left=updates(), right=updates())
def test_add_messages_matches_langgraph_on_random_updates(left: Any, right: Any) -> None:
    expected, actual = both(
        lambda: build(left, removals=False), lambda: build(right, removals=True)
    )
    assert actual == expected


def test_messages_state_is_a_typed_dict_with_the_reducer() -> None:
    from typing import get_type_hints

    hints = get_type_hints(MessagesState, include_extras=True)
    assert list(hints) == ["messages"]
    assert hints["messages"].__metadata__ == (add_messages,)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    )


def test_graphpool_imports_without_langchain() -> None:
    result = run_python(
        """
        import sys
        import graphpool, graphpool.graph
        from graphpool.graph import StateGraph, START, END
        assert "langchain_core" not in sys.modules, "graphpool imported langchain_core"
        print("ok")
        """
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_missing_langchain_gives_an_error_naming_the_extra() -> None:
    result = run_python(
        """
        import sys
        sys.modules["langchain_core"] = None  # as if not installed
        from typing import TypedDict
        from graphpool import StateGraph, START
        for name in ("add_messages", "MessagesState"):
            try:
                exec(f"from graphpool.graph import {name}")
            except ImportError as exc:
                assert "graphpool[messages]" in str(exc), exc
            else:
                raise AssertionError(name + " imported without langchain-core")
        try:
            import graphpool.prebuilt
        except ImportError as exc:
            assert "graphpool[messages]" in str(exc), exc
        class S(TypedDict):
            x: int
        b = StateGraph(S)
        b.add_node("n", lambda s: {"x": 1})
        b.add_edge(START, "n")
        graph = b.compile()
        assert graph.invoke({"x": 0}) == {"x": 1}
        try:
            list(graph.stream({"x": 0}, stream_mode="messages"))
        except ImportError as exc:
            assert "graphpool[messages]" in str(exc), exc
        else:
            raise AssertionError("messages mode ran without langchain-core")
        print("ok")
        """
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_push_message_streams_now_and_writes_with_the_update() -> None:
    from graphpool.errors import InvalidMessagesError, NotInNodeError
    from graphpool.graph import START, StateGraph
    from graphpool.graph.message import push_message

    def node(state: MessagesState) -> dict:
        with pytest.raises(InvalidMessagesError, match="Message ID is required"):
            push_message(AIMessage("no id"))
        push_message(AIMessage("kept", id="k"))
        push_message(AIMessage("only shown", id="s"), state_key=None)
        return {"messages": [AIMessage("returned", id="r")]}

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    chunks = list(graph.stream({"messages": []}, stream_mode=["messages", "updates"]))
    assert [(mode, c[0].id if mode == "messages" else c) for mode, c in chunks] == [
        ("messages", "k"),
        ("messages", "s"),
        ("messages", "r"),
        ("updates", {"node": [{"messages": chunks[0][1][0]}, {"messages": [chunks[2][1][0]]}]}),
    ]
    assert [m.id for m in graph.invoke({"messages": []})["messages"]] == ["k", "r"]
    with pytest.raises(NotInNodeError, match="push_message"):
        push_message(AIMessage("outside", id="o"))
