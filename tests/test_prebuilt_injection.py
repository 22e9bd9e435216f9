"""ToolNode's wrappers (``wrap_tool_call``, ``awrap_tool_call``, ``ToolCallRequest``) and
what it injects into tools (``InjectedState``, ``InjectedStore``, ``ToolRuntime``),
against LangGraph's ToolNode given the same tools. (No ``from __future__ import
annotations``: the tools' annotations, read at run time, name local variables.)"""

import asyncio
import operator
import types
import warnings
from typing import Annotated, Any

import langgraph.prebuilt as lg_prebuilt
import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.runtime import Runtime as LGRuntime
from typing_extensions import TypedDict

import graphpool.prebuilt as gp_prebuilt
from graphpool import START, StateGraph
from graphpool.errors import InvalidConfigError
from graphpool.graph import MessagesState, add_messages
from graphpool.prebuilt import ToolCallRequest, ToolNode

pytestmark = pytest.mark.timeout(30)


def calls(*specs: tuple[str, dict]) -> AIMessage:
    return AIMessage(
        "",
        tool_calls=[
            {"name": name, "args": args, "id": f"call-{i}"} for i, (name, args) in enumerate(specs)
        ],
    )


def plain(output: Any) -> Any:
    """ToolMessages as comparable dicts (ids aside: a graph's add_messages sets them)."""
    if isinstance(output, dict):
        return {k: plain(v) for k, v in output.items()}
    if isinstance(output, list):
        return [plain(v) for v in output]
    if isinstance(output, ToolMessage):
        return {"type": "ToolMessage", **output.model_dump(exclude={"id"})}
    return output


class Store:
    """A stand-in store: tools only read ``data`` from it."""

    def __init__(self, **data: Any) -> None:
        self.data = data


def make_tools(lib: types.ModuleType) -> list[Any]:
    """The same tools, with ``lib``'s (LangGraph's or graphpool's) injection markers."""
    InjectedState, InjectedStore, ToolRuntime = (
        lib.InjectedState,
        lib.InjectedStore,
        lib.ToolRuntime,
    )

    @tool
    def whole(x: int, state: Annotated[dict, InjectedState]) -> str:
        """Counts the messages."""
        return f"{x}:{len(state['messages'])}"

    @tool
    def field(x: int, topic: Annotated[str, InjectedState("topic")]) -> str:
        """Reads one key."""
        return f"{x}:{topic}"

    @tool
    def maybe(x: int, missing: Annotated[str, InjectedState("missing")] = "default") -> str:
        """Reads a key that may be absent."""
        return f"{x}:{missing}"

    @tool
    def stored(key: str, store: Annotated[Any, InjectedStore()]) -> str:
        """Reads the store."""
        return str(store.data[key])

    @tool
    def with_runtime(x: int, runtime: ToolRuntime) -> str:
        """Reports its runtime."""
        names = sorted(t.name for t in runtime.tools)
        return f"{x}:{runtime.tool_call_id}:{runtime.context}:{runtime.state['topic']}:{names}"

    return [whole, field, maybe, stored, with_runtime]


STATE_CALLS = calls(
    ("whole", {"x": 1}),
    ("field", {"x": 2, "topic": "forged by the model"}),
    ("maybe", {"x": 3}),
    ("stored", {"key": "k"}),
    ("with_runtime", {"x": 4}),
)


def both(state: Any, **node_options: Any) -> tuple[Any, Any]:
    store = Store(k="v")
    lg_config = {"configurable": {"__pregel_runtime": LGRuntime(context="ctx", store=store)}}
    theirs = lg_prebuilt.ToolNode(make_tools(lg_prebuilt), **node_options).invoke(state, lg_config)
    node = ToolNode(make_tools(gp_prebuilt), **node_options)

    class S(TypedDict):
        messages: Annotated[list, add_messages]
        topic: str

    b = StateGraph(S)
    b.add_node("tools", node)
    b.add_edge(START, "tools")
    graph = b.compile().copy({"store": store})
    ours = graph.invoke(state, context="ctx", stream_mode="updates")[0]["tools"]
    return theirs, ours


def test_injected_state_store_and_runtime_are_langgraphs() -> None:
    theirs, ours = both({"messages": [STATE_CALLS], "topic": "t"})
    assert plain(ours) == plain(theirs)
    contents = [m.content for m in ours["messages"]]
    assert contents[1] == "2:t"  # the model's value for an injected argument is dropped
    assert contents[4] == "4:call-4:ctx:t:['field', 'maybe', 'stored', 'whole', 'with_runtime']"


def test_injected_arguments_are_hidden_from_the_model() -> None:
    for made in make_tools(gp_prebuilt):
        schema = made.tool_call_schema.model_json_schema()
        assert set(schema["properties"]) <= {"x", "key"}, made.name


def test_the_models_arguments_named_like_letters_of_runtime_are_kept() -> None:
    @tool
    def scale(n: int, e: int, runtime: gp_prebuilt.ToolRuntime) -> str:
        """Scale n by e."""
        return str(n * e)

    call = {"name": "scale", "args": {"n": 3, "e": 2}, "id": "c", "type": "tool_call"}
    graph = StateGraph(MessagesState).add_node("tools", ToolNode([scale])).add_edge(START, "tools")
    out = graph.compile().invoke({"messages": [AIMessage("", tool_calls=[call])]})
    assert out["messages"][-1].content == "6"


def test_a_missing_state_key_fails_as_in_langgraph() -> None:
    message = calls(("field", {"x": 1}))
    with pytest.raises(KeyError, match="topic"):
        ToolNode(make_tools(gp_prebuilt)).invoke({"messages": [message]})
    with pytest.raises(KeyError, match="topic"):
        lg_prebuilt.ToolNode(make_tools(lg_prebuilt)).invoke(
            {"messages": [message]}, {"configurable": {"__pregel_runtime": LGRuntime()}}
        )


def test_injecting_the_store_without_one_names_the_fix() -> None:
    with pytest.raises(InvalidConfigError, match=r"compile your graph with a store"):
        ToolNode(make_tools(gp_prebuilt)).invoke({"messages": [calls(("stored", {"key": "k"}))]})


def test_bad_arguments_name_only_the_models_arguments() -> None:
    out = ToolNode(make_tools(gp_prebuilt)).invoke(
        {"messages": [calls(("field", {"x": "not a number"}))], "topic": "t"}
    )
    text = out["messages"][0].content
    assert "x: Input should be a valid integer" in text and "topic" not in text


# -- wrappers ------------------------------------------------------------------------


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


@tool
def broken(x: int) -> str:
    """Fails."""
    raise RuntimeError(f"broken by {x}")


def doubling(request: Any, execute: Any) -> Any:
    args = {k: 2 * v for k, v in request.tool_call["args"].items()}
    return execute(request.override(tool_call={**request.tool_call, "args": args}))


def answering(request: Any, execute: Any) -> Any:
    if request.tool is None:  # a tool this node does not have: answered here
        return ToolMessage("made up", tool_call_id=request.tool_call["id"], name="ghost")
    return execute(request)


def twice(request: Any, execute: Any) -> Any:
    first = execute(request)
    second = execute(request)
    return ToolMessage(f"{first.content}+{second.content}", tool_call_id=first.tool_call_id)


def raising(request: Any, execute: Any) -> Any:
    raise ValueError("wrapper refused")


WRAPPERS = [doubling, answering, twice]
STATES = [
    {"messages": [calls(("add", {"a": 1, "b": 2}), ("ghost", {}))]},
    {"messages": [calls(("broken", {"x": 3}))]},
]


def lg_config() -> dict:
    return {"configurable": {"__pregel_runtime": LGRuntime()}}


@pytest.mark.parametrize("wrapper", WRAPPERS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("state", STATES, ids=["two-calls", "failing"])
def test_wrap_tool_call_is_langgraphs(wrapper: Any, state: Any) -> None:
    options = {"wrap_tool_call": wrapper, "handle_tool_errors": True}
    theirs = lg_prebuilt.ToolNode([add, broken], **options).invoke(state, lg_config())
    ours = ToolNode([add, broken], **options).invoke(state)
    assert plain(ours) == plain(theirs)


@pytest.mark.parametrize(
    "handle", [True, "no", False, None], ids=["true", "text", "false", "default"]
)
def test_a_wrapper_that_raises_is_handled_as_in_langgraph(handle: Any) -> None:
    options: dict[str, Any] = {"wrap_tool_call": raising}
    if handle is not None:
        options["handle_tool_errors"] = handle
    state = {"messages": [calls(("add", {"a": 1, "b": 2}))]}
    outcomes = []
    for node in (lg_prebuilt.ToolNode([add], **options), ToolNode([add], **options)):
        try:
            outcomes.append(plain(node.invoke(state, lg_config())))
        except ValueError as exc:
            outcomes.append(("raised", str(exc)))
    assert outcomes[1] == outcomes[0]


def test_awrap_tool_call_in_ainvoke_is_langgraphs() -> None:
    async def adoubling(request: Any, execute: Any) -> Any:
        args = {k: 2 * v for k, v in request.tool_call["args"].items()}
        return await execute(request.override(tool_call={**request.tool_call, "args": args}))

    state = {"messages": [calls(("add", {"a": 1, "b": 2}))]}

    async def go(node: Any) -> Any:
        return plain(await node.ainvoke(state, lg_config()))

    theirs = asyncio.run(go(lg_prebuilt.ToolNode([add], awrap_tool_call=adoubling)))
    ours = asyncio.run(go(ToolNode([add], awrap_tool_call=adoubling)))
    assert ours == theirs and ours["messages"][0]["content"] == "6"


def test_awrap_tool_call_wraps_each_call_of_a_graph_run() -> None:
    seen: list[str] = []

    async def logging(request: Any, execute: Any) -> Any:
        seen.append(request.tool_call["id"])
        await asyncio.sleep(0)
        return await execute(request)

    class S(TypedDict):
        messages: Annotated[list, operator.add]

    b = StateGraph(S)
    b.add_node("tools", ToolNode([add], awrap_tool_call=logging))
    b.add_edge(START, "tools")
    graph = b.compile()
    state = {"messages": [calls(("add", {"a": 1, "b": 2}), ("add", {"a": 2, "b": 2}))]}
    out = graph.invoke(state)
    assert [m.content for m in out["messages"][1:]] == ["3", "4"]
    assert sorted(seen) == ["call-0", "call-1"]
    asyncio.run(graph.ainvoke(state))
    assert len(seen) == 4


def test_wrappers_must_be_callable() -> None:
    with pytest.raises(InvalidConfigError, match="wrap_tool_call"):
        ToolNode([add], wrap_tool_call="nope")  # type: ignore[arg-type]


def test_tool_call_request_override_and_deprecated_setattr() -> None:
    call = {"name": "add", "args": {"a": 1, "b": 2}, "id": "1", "type": "tool_call"}
    runtime = gp_prebuilt.ToolRuntime(
        state={"n": 1}, context=None, config={}, stream_writer=print, tool_call_id="1", store=None
    )
    assert runtime.tools == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        request = ToolCallRequest(tool_call=call, tool=add, state={"n": 1}, runtime=runtime)
        changed = request.override(state={"n": 2})
    assert changed.runtime.state == {"n": 2} and request.runtime.state == {"n": 1}
    with pytest.warns(DeprecationWarning, match="deprecated.*override"):
        request.tool_call = {**call, "id": "2"}
    assert request.tool_call["id"] == "2"


def _graph_state_seen(which: str) -> list[Any]:
    """What a tool's runtime.state is when ToolNode gets bare tool calls: in a node
    sent to (a dataclass state), and inside a subgraph run by a Send."""
    import dataclasses
    import importlib

    graph_mod = importlib.import_module(f"{which}.graph")
    types_mod = importlib.import_module(f"{which}.types")
    prebuilt = importlib.import_module(f"{which}.prebuilt")
    seen: list[Any] = []
    call = {"name": "record", "args": {}, "id": "c1", "type": "tool_call"}

    @tool
    def record(runtime: prebuilt.ToolRuntime) -> str:
        """Record the state."""
        seen.append(runtime.state)
        return "ok"

    @dataclasses.dataclass
    class DState:
        messages: Annotated[list, operator.add]
        value: str = "v"

    g = graph_mod.StateGraph(DState)
    g.add_node("agent", lambda s: {"value": "after agent"})
    g.add_node("tools", prebuilt.ToolNode([record]))
    g.add_edge(graph_mod.START, "agent")
    g.add_conditional_edges("agent", lambda s: [types_mod.Send("tools", [call])], ["tools"])
    g.compile().invoke({"messages": [], "value": "start"})

    class Inner(TypedDict):
        value: str

    def call_tools(state: Inner) -> dict:
        prebuilt.ToolNode([record]).invoke([call])
        return {}

    inner = graph_mod.StateGraph(Inner)
    inner.add_node("call_tools", call_tools)
    inner.add_edge(graph_mod.START, "call_tools")
    outer = graph_mod.StateGraph(Inner)
    outer.add_node("inner", inner.compile())
    outer.add_conditional_edges(
        graph_mod.START, lambda s: [types_mod.Send("inner", {"value": "inner"})], ["inner"]
    )
    outer.compile().invoke({"value": "outer"})
    return [(type(s).__name__, getattr(s, "value", None) or s.get("value")) for s in seen]


def test_bare_tool_calls_see_the_running_graphs_state() -> None:
    assert _graph_state_seen("graphpool") == _graph_state_seen("langgraph")
