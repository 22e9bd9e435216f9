"""graphpool.prebuilt: ToolNode and tools_condition, against LangGraph's where they overlap."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.graph import START as LG_START
from langgraph.graph import MessagesState as LGMessagesState
from langgraph.graph import StateGraph as LGStateGraph
from langgraph.prebuilt import ToolNode as LGToolNode
from langgraph.prebuilt import tools_condition as lg_tools_condition
from langgraph.types import Command as LGCommand
from lc_fakes import UUID_RE

from graphpool import START, StateGraph, ThreadPool
from graphpool.graph import MessagesState
from graphpool.prebuilt import ToolInvocationError, ToolNode, tools_condition
from graphpool.prebuilt._parallel import map_on_pool

pytestmark = pytest.mark.timeout(30)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def shout(text: str) -> str:
    """Upper-case a text."""
    return text.upper()


@tool
def broken(x: int) -> str:
    """Always fails."""
    raise RuntimeError(f"broken by {x}")


def calls(*specs: tuple[str, dict]) -> AIMessage:
    return AIMessage(
        "",
        tool_calls=[
            {"name": name, "args": args, "id": f"call-{i}"} for i, (name, args) in enumerate(specs)
        ],
    )


def lg_config() -> dict:
    from langgraph._internal._constants import CONFIG_KEY_RUNTIME
    from langgraph.runtime import DEFAULT_RUNTIME

    return {"configurable": {CONFIG_KEY_RUNTIME: DEFAULT_RUNTIME}}


def plain(output: Any) -> Any:
    """ToolMessages as comparable dicts (their ids are unset by both ToolNodes)."""
    if isinstance(output, dict):
        return {k: plain(v) for k, v in output.items()}
    if isinstance(output, list):
        return [plain(v) for v in output]
    if isinstance(output, ToolMessage):
        return {"type": "ToolMessage", **output.model_dump()}
    return output


# -- same output as LangGraph's ToolNode -------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        calls(("add", {"a": 1, "b": 2}), ("shout", {"text": "hi"})),
        calls(("add", {"a": "not a number", "b": 2})),  # bad arguments: error message
        calls(("nope", {"a": 1})),  # unknown tool: error message naming the known ones
        calls(("add", {"a": 1})),  # missing argument
        calls(),
    ],
    ids=["two-calls", "bad-args", "unknown-tool", "missing-arg", "no-calls"],
)
@pytest.mark.parametrize("shape", ["dict", "list"])
def test_output_matches_langgraph_tool_node(message: AIMessage, shape: str) -> None:
    state: Any = {"messages": [HumanMessage("q"), message]}
    if shape == "list":
        state = state["messages"]
    tools = [add, shout]
    expected = LGToolNode(tools).invoke(state, lg_config())
    actual = ToolNode(tools).invoke(state, {})
    assert plain(actual) == plain(expected)


@pytest.mark.parametrize(
    "handle",
    [True, "try again", RuntimeError, (ValueError, RuntimeError), lambda e: f"custom {e}"],
    ids=["true", "text", "type", "tuple", "function"],
)
def test_handled_tool_errors_match_langgraph(handle: Any) -> None:
    state = {"messages": [calls(("broken", {"x": 7}), ("add", {"a": 1, "b": 1}))]}
    expected = LGToolNode([broken, add], handle_tool_errors=handle).invoke(state, lg_config())
    actual = ToolNode([broken, add], handle_tool_errors=handle).invoke(state, {})
    assert plain(actual) == plain(expected)
    assert actual["messages"][0].status == "error"


@pytest.mark.parametrize(
    "handle", [False, ValueError, None], ids=["false", "other-type", "default"]
)
def test_unhandled_tool_errors_are_raised(handle: Any) -> None:
    node = ToolNode([broken]) if handle is None else ToolNode([broken], handle_tool_errors=handle)
    with pytest.raises(RuntimeError, match="broken by 7"):
        node.invoke({"messages": [calls(("broken", {"x": 7}))]}, {})


def test_error_handler_handles_only_the_types_it_annotates() -> None:
    def only_value_errors(error: ValueError) -> str:
        return "value problem"

    node = ToolNode([broken], handle_tool_errors=only_value_errors)
    with pytest.raises(RuntimeError):
        node.invoke({"messages": [calls(("broken", {"x": 1}))]}, {})


def test_bad_arguments_raise_tool_invocation_error_when_not_handled() -> None:
    node = ToolNode([add], handle_tool_errors=False)
    with pytest.raises(ToolInvocationError, match="Error invoking tool 'add'"):
        node.invoke({"messages": [calls(("add", {"a": "x", "b": 1}))]}, {})


def test_tools_condition_matches_langgraph() -> None:
    states: list[Any] = [
        {"messages": [HumanMessage("q"), calls(("add", {"a": 1, "b": 2}))]},
        {"messages": [HumanMessage("q"), AIMessage("done")]},
        [calls(("add", {"a": 1, "b": 2}))],
        [AIMessage("done")],
    ]
    for state in states:
        assert tools_condition(state) == lg_tools_condition(state)
    for bad in ({"messages": []}, {}, []):
        with pytest.raises(ValueError):
            tools_condition(bad)


# -- inputs and outputs --------------------------------------------------------------


def test_tool_call_list_input_and_message_order() -> None:
    message = calls(*[("add", {"a": i, "b": 0}) for i in range(8)])
    out = ToolNode([add]).invoke(list(message.tool_calls), {})
    assert [m.content for m in out["messages"]] == [str(i) for i in range(8)]
    assert [m.tool_call_id for m in out["messages"]] == [f"call-{i}" for i in range(8)]


def test_latest_ai_message_is_used_and_missing_messages_are_errors() -> None:
    state = {"messages": [calls(("add", {"a": 1, "b": 2})), HumanMessage("later")]}
    assert ToolNode([add]).invoke(state, {})["messages"][0].content == "3"
    with pytest.raises(ValueError, match="no AIMessage"):
        ToolNode([add]).invoke({"messages": [HumanMessage("q")]}, {})
    with pytest.raises(ValueError, match="no messages"):
        ToolNode([add]).invoke({"other": 1}, {})


def test_plain_functions_become_tools_and_node_is_named_tools() -> None:
    def double(x: int) -> int:
        """Double x."""
        return 2 * x

    node = ToolNode([double])
    assert node.name == "tools"
    assert list(node.tools_by_name) == ["double"]
    out = node.invoke({"messages": [calls(("double", {"x": 21}))]}, {})
    assert out["messages"][0].content == "42"


def test_async_only_tool_runs() -> None:
    @tool
    async def later(x: int) -> int:
        """Async tool."""
        await asyncio.sleep(0)
        return x + 1

    out = ToolNode([later]).invoke({"messages": [calls(("later", {"x": 1}))]}, {})
    assert out["messages"][0].content == "2"


def test_tool_returning_langgraph_command_runs_like_on_langgraph() -> None:
    @tool
    def handoff(target: str, tool_call_id: Annotated[str, InjectedToolCallId]) -> LGCommand:
        """Hand over to another node."""
        reply = ToolMessage(f"handing to {target}", tool_call_id=tool_call_id, id="handoff")
        return LGCommand(update={"messages": [reply]}, goto=target)

    def build(graph_cls, state, start, node_cls):
        builder = graph_cls(state)
        builder.add_node(
            "model",
            lambda s: {
                "messages": [calls(("add", {"a": 1, "b": 1}), ("handoff", {"target": "expert"}))]
            },
        )
        builder.add_node("tools", node_cls([add, handoff]))
        builder.add_node("expert", lambda s: {"messages": [AIMessage("expert here", id="x")]})
        builder.add_edge(start, "model")
        builder.add_edge("model", "tools")
        return builder.compile()

    def run(graph) -> list:
        out = graph.invoke({"messages": [HumanMessage("q", id="q")]})["messages"]
        return [(type(m).__name__, m.content, getattr(m, "tool_call_id", None)) for m in out]

    expected = run(build(LGStateGraph, LGMessagesState, LG_START, LGToolNode))
    actual = run(build(StateGraph, MessagesState, START, ToolNode))
    assert actual == expected
    assert actual[-1] == ("AIMessage", "expert here", None)
    assert actual[2:4] == [
        ("ToolMessage", "2", "call-0"),
        ("ToolMessage", "handing to expert", "call-1"),
    ]


# -- parallelism ---------------------------------------------------------------------


def concurrency_probe(n: int) -> tuple[list[Any], dict[str, int]]:
    lock = threading.Lock()
    stats = {"now": 0, "most": 0}

    def make(i: int) -> Any:
        @tool(f"t{i}")
        def probe() -> str:
            """Count overlapping calls."""
            with lock:
                stats["now"] += 1
                stats["most"] = max(stats["most"], stats["now"])
            time.sleep(0.02)
            with lock:
                stats["now"] -= 1
            return "ok"

        return probe

    return [make(i) for i in range(n)], stats


def test_max_parallel_and_max_concurrency_cap_the_calls() -> None:
    tools, stats = concurrency_probe(6)
    state = {"messages": [calls(*[(f"t{i}", {}) for i in range(6)])]}
    ToolNode(tools, max_parallel=2).invoke(state, {})
    assert stats["most"] <= 2
    stats["most"] = 0
    ToolNode(tools).invoke(state, {"max_concurrency": 1})
    assert stats["most"] == 1


def test_saturated_pool_does_not_deadlock() -> None:
    # A one-thread pool, kept busy: the node's own thread runs every call.
    pool = ThreadPool(max_workers=1)
    release = threading.Event()
    try:
        blocker = pool.submit(release.wait, 10)
        node = ToolNode([add, shout], pool=pool)
        out = node.invoke(
            {"messages": [calls(("add", {"a": 1, "b": 2}), ("shout", {"text": "x"}))]}, {}
        )
        assert [m.content for m in out["messages"]] == ["3", "X"]
    finally:
        release.set()
        blocker.result()
        pool.shutdown()


def test_map_on_pool_raises_the_earliest_failure_and_stops_starting_calls() -> None:
    started: list[int] = []

    def work(i: int) -> int:
        started.append(i)
        if i in (1, 2):
            raise KeyError(i)
        return i

    pool = ThreadPool(max_workers=4)
    try:
        assert map_on_pool(lambda i: i * 2, list(range(5)), pool) == [0, 2, 4, 6, 8]
        with pytest.raises(KeyError) as info:
            map_on_pool(work, list(range(50)), pool, limit=1)
        assert info.value.args == (1,)
        assert started == [0, 1]  # one at a time: nothing starts after the failure
    finally:
        pool.shutdown()


def test_tool_messages_get_ids_only_from_add_messages() -> None:
    out = ToolNode([add]).invoke({"messages": [calls(("add", {"a": 1, "b": 2}))]}, {})
    assert out["messages"][0].id is None  # as LangGraph's; the reducer assigns a uuid
    from graphpool.graph import add_messages

    merged = add_messages([], out["messages"])
    assert UUID_RE.match(merged[0].id)
