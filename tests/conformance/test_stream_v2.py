"""Stream shapes of LangGraph 1.2 against real ``langgraph``: ``version="v2"`` parts,
``invoke(version="v2")``'s ``GraphOutput``, ``stream_mode="tools"``, ``push_message``,
the namespaces a subgraph's and a child graph's chunks carry, and ``tasks`` results.

Each scenario builds its graph from one library's names and returns what a caller
observes, made comparable: task ids and tool run ids (drawn at random) become
placeholders, namespace segments lose their task ids, interrupts are compared by
value. Both libraries must observe the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import itertools
import operator
import re
import types
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel

pytestmark = pytest.mark.timeout(60)


def _lib(name: str) -> types.SimpleNamespace:
    """The names the scenarios use, from ``langgraph`` or ``graphpool``."""
    saver = "checkpoint.memory" if name == "langgraph" else "checkpoint"

    def load(module: str, *attrs: str) -> dict[str, Any]:
        found = importlib.import_module(f"{name}.{module}")
        return {attr: getattr(found, attr) for attr in attrs}

    return types.SimpleNamespace(
        name=name,
        **load(saver, "InMemorySaver"),
        **load("config", "get_stream_writer"),
        **load("func", "entrypoint", "task"),
        **load("graph", "START", "MessagesState", "StateGraph"),
        **load("graph.message", "push_message"),
        **load("types", "Command", "interrupt"),
        **load("prebuilt", "ToolNode", "ToolRuntime"),
    )


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def plain(value: Any) -> Any:
    """``value`` made comparable across the two libraries and across runs."""
    if isinstance(value, BaseMessage):
        random = not value.id or value.id.startswith("lc_run") or _UUID.match(value.id)
        ident = "<id>" if random else value.id
        return (type(value).__name__, value.content, ident)
    if type(value).__name__ == "Interrupt":
        return ("Interrupt", plain(value.value))
    if type(value).__name__ == "GraphOutput":
        return ("GraphOutput", plain(value.value), plain(value.interrupts))
    if isinstance(value, str) and _UUID.match(value):
        return "<uuid>"
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, plain(dataclasses.asdict(value)))
    if isinstance(value, BaseModel):
        return (type(value).__name__, plain(value.model_dump()))
    return value


def names(ns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(segment.split(":")[0] for segment in ns)


def parts(stream: Any) -> list[Any]:
    """v2 parts, with namespaces by node name and messages' metadata left out."""
    found = []
    for part in stream:
        part = dict(part)
        part["ns"] = names(part["ns"])
        if part["type"] == "messages":
            message, _ = part["data"]
            part["data"] = message
        found.append(plain(part))
    return found


def _thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


class LogState(TypedDict):
    log: Annotated[list, operator.add]


@tool
def echo(text: str) -> str:
    """Echo the text."""
    return text


@tool
def broken(text: str) -> str:
    """Always fails."""
    raise ValueError(f"cannot take {text}")


def _chain(lib: Any, *nodes: str, checkpointer: Any = None) -> Any:
    graph = lib.StateGraph(LogState)
    for name in nodes:
        graph.add_node(name, lambda state, name=name: {"log": [name]})
    graph.add_edge(lib.START, nodes[0])
    for a, b in itertools.pairwise(nodes):
        graph.add_edge(a, b)
    return graph.compile(checkpointer=checkpointer)


def _with_sub(lib: Any) -> Any:
    parent = lib.StateGraph(LogState)
    parent.add_node("sub", _chain(lib, "x", "y"))
    parent.add_node("after", lambda state: {"log": ["after"]})
    parent.add_edge(lib.START, "sub")
    parent.add_edge("sub", "after")
    return parent.compile()


# -- version="v2" ----------------------------------------------------------------


def v2_each_mode(lib: Any) -> Any:
    def write(state: LogState) -> dict:
        lib.get_stream_writer()({"note": len(state["log"])})
        return {"log": ["w"]}

    graph = lib.StateGraph(LogState)
    graph.add_node("write", write)
    graph.add_node("end", lambda state: {"log": ["end"]})
    graph.add_edge(lib.START, "write")
    graph.add_edge("write", "end")
    compiled = graph.compile()
    modes = ["values", "updates", "custom", "tasks"]
    return {
        "all": parts(compiled.stream({"log": []}, stream_mode=modes, version="v2")),
        "default": parts(compiled.stream({"log": []}, version="v2")),
        "one": parts(compiled.stream({"log": []}, stream_mode="values", version="v2")),
        "v1": plain(list(compiled.stream({"log": []}, stream_mode="updates", version="v1"))),
    }


def v2_subgraphs(lib: Any) -> Any:
    graph = _with_sub(lib)
    modes = ["values", "updates"]
    return {
        "flat": parts(graph.stream({"log": []}, stream_mode=modes, version="v2")),
        "nested": parts(graph.stream({"log": []}, stream_mode=modes, subgraphs=True, version="v2")),
    }


def v2_interrupts_and_invoke(lib: Any) -> Any:
    def ask(state: LogState) -> dict:
        return {"log": [lib.interrupt("name?")]}

    graph = lib.StateGraph(LogState)
    graph.add_node("ask", ask)
    graph.add_edge(lib.START, "ask")
    compiled = graph.compile(checkpointer=lib.InMemorySaver())
    streamed = parts(
        compiled.stream({"log": ["a"]}, _thread("s"), stream_mode="values", version="v2")
    )
    paused = compiled.invoke({"log": ["b"]}, _thread("i"), version="v2")
    resumed = compiled.invoke(lib.Command(resume="Ann"), _thread("i"), version="v2")
    listed = compiled.invoke({"log": []}, _thread("u"), stream_mode="updates", version="v2")
    return {
        "streamed": streamed,
        "paused": plain(paused),
        "resumed": plain(resumed),
        "listed": parts(listed),
        "value_of": plain(resumed.value),
    }


@dataclasses.dataclass
class DataState:
    count: int = 0


class ModelState(BaseModel):
    count: int = 0


def v2_values_in_the_state_type(lib: Any) -> Any:
    found = {}
    for schema in (DataState, ModelState):
        graph = lib.StateGraph(schema)
        graph.add_node("inc", lambda state: {"count": state.count + 1})
        graph.add_edge(lib.START, "inc")
        compiled = graph.compile()
        found[schema.__name__] = {
            "stream": parts(compiled.stream(schema(), stream_mode="values", version="v2")),
            "invoke": plain(compiled.invoke(schema(), version="v2")),
            "v1": plain(compiled.invoke(schema())),
        }
    return found


class SubState(TypedDict):
    count: int


def v2_checkpoints_in_the_state_type(lib: Any) -> Any:
    """The state in ``checkpoints`` and ``debug`` parts is in the state's type too, and
    a subgraph's ``values`` go through the caller's type (LangGraph's mapper)."""
    sub = lib.StateGraph(SubState)
    sub.add_node("inc", lambda state: {"count": state["count"] + 1})
    sub.add_edge(lib.START, "inc")
    found = {}
    for schema in (DataState, ModelState):
        graph = lib.StateGraph(schema)
        graph.add_node("sub", sub.compile())
        graph.add_edge(lib.START, "sub")
        compiled = graph.compile(checkpointer=lib.InMemorySaver())
        seen = []
        modes = ["checkpoints", "debug", "values"]
        config = _thread(schema.__name__)
        for part in compiled.stream(schema(), config, stream_mode=modes, version="v2"):
            data = part["data"]
            if part["type"] == "debug":
                if data["type"] != "checkpoint":
                    continue
                data = data["payload"]
            if part["type"] == "values":
                seen.append(("values", plain(data)))
            else:
                seen.append((part["type"], plain(data["values"]), data["next"]))
        nested = compiled.stream(
            schema(), _thread("n"), stream_mode="values", subgraphs=True, version="v2"
        )
        # by mode: graphpool sends a step's checkpoint before its values, LangGraph after
        by_mode = {mode: [item for item in seen if item[0] == mode] for mode in modes}
        found[schema.__name__] = {"flat": by_mode, "nested": parts(nested)}
    return found


def v2_entrypoint(lib: Any) -> Any:
    @lib.task
    def double(x: int) -> int:
        return 2 * x

    @lib.entrypoint()
    def workflow(x: int) -> int:
        return double(x).result() + 1

    return {
        "updates": parts(workflow.stream(3, version="v2")),
        "values": parts(workflow.stream(3, stream_mode="values", version="v2")),
        "invoke": plain(workflow.invoke(3, version="v2")),
    }


def v2_async(lib: Any) -> Any:
    async def go() -> Any:
        graph = _with_sub(lib)
        stream = graph.astream({"log": []}, stream_mode=["updates"], subgraphs=True, version="v2")
        streamed = [part async for part in stream]
        result = await graph.ainvoke({"log": []}, version="v2")
        return {"streamed": parts(streamed), "result": plain(result)}

    return asyncio.run(go())


# -- stream_mode="tools" ---------------------------------------------------------


def _tool_user(state: Any) -> dict:
    echo.invoke({"text": "plain"})
    echo.invoke({"name": "echo", "args": {"text": "call"}, "id": "call-1", "type": "tool_call"})
    try:
        broken.invoke({"text": "this"})
    except ValueError:
        pass
    return {"messages": [AIMessage("done", id="done")]}


def tools_events(lib: Any) -> Any:
    graph = lib.StateGraph(lib.MessagesState)
    graph.add_node("use", _tool_user)
    graph.add_edge(lib.START, "use")
    compiled = graph.compile()
    return {
        "v1": plain(list(compiled.stream({"messages": []}, stream_mode="tools"))),
        "v1_tagged": plain(
            list(compiled.stream({"messages": []}, stream_mode=["tools", "updates"]))
        ),
        "v2": parts(compiled.stream({"messages": []}, stream_mode="tools", version="v2")),
    }


def tools_in_a_subgraph(lib: Any) -> Any:
    inner = lib.StateGraph(lib.MessagesState)
    inner.add_node("use", _tool_user)
    inner.add_edge(lib.START, "use")
    outer = lib.StateGraph(lib.MessagesState)
    outer.add_node("inner", inner.compile())
    outer.add_edge(lib.START, "inner")
    graph = outer.compile()
    return {
        "flat": parts(graph.stream({"messages": []}, stream_mode="tools", version="v2")),
        "nested": parts(
            graph.stream({"messages": []}, stream_mode="tools", subgraphs=True, version="v2")
        ),
        "v1_nested": plain(
            [
                (names(ns), event)
                for ns, event in graph.stream({"messages": []}, stream_mode="tools", subgraphs=True)
            ]
        ),
    }


def tools_and_tokens_in_tasks(lib: Any) -> Any:
    @lib.task
    def chat() -> str:
        echo.invoke({"text": "inside"})
        return GenericFakeChatModel(messages=iter(["a b"])).invoke("hi").content

    @lib.entrypoint()
    def workflow(inputs: dict) -> str:
        return chat().result()

    modes = ["messages", "tools"]
    return {
        subgraphs: parts(workflow.stream({}, stream_mode=modes, subgraphs=subgraphs, version="v2"))
        for subgraphs in (False, True)
    }


def tools_send_partial_output(lib: Any) -> Any:
    """``ToolRuntime.emit_output_delta`` from tools that ``ToolNode`` runs, sync and async."""

    def count(n: int, runtime: Any) -> str:
        """Count up to n."""
        for i in range(n):
            runtime.emit_output_delta(i)
        return "counted"

    async def acount(n: int, runtime: Any) -> str:
        """Count up to n, async."""
        for i in range(n):
            runtime.emit_output_delta({"at": i})
        return "counted"

    for fn in (count, acount):  # the library's ToolRuntime, read from the hints
        fn.__annotations__["runtime"] = lib.ToolRuntime
    tools = [tool(count), tool(acount)]

    calls = [
        {"name": "count", "args": {"n": 2}, "id": "c1", "type": "tool_call"},
        {"name": "acount", "args": {"n": 1}, "id": "c2", "type": "tool_call"},
    ]
    graph = lib.StateGraph(lib.MessagesState)
    graph.add_node("tools", lib.ToolNode(tools))
    graph.add_edge(lib.START, "tools")
    compiled = graph.compile()
    given = {"messages": [AIMessage("", tool_calls=calls, id="ask")]}
    sync_given = {"messages": [AIMessage("", tool_calls=calls[:1], id="ask")]}  # no async tool

    def summary(stream: Any) -> Any:
        events = [plain(event) for event in stream]
        return sorted(events, key=lambda e: e["tool_call_id"])  # calls run at once: by call

    async def streamed_async() -> list[Any]:
        return [e async for e in compiled.astream(given, stream_mode="tools")]

    return {
        "sync": summary(compiled.stream(sync_given, stream_mode="tools")),
        "async": summary(asyncio.run(streamed_async())),
        "not_streamed": plain(compiled.invoke(sync_given)),
    }


def child_graph_streams(lib: Any) -> Any:
    """A child graph called in a node: as a subgraph, and on a thread of its own."""
    child = lib.StateGraph(lib.MessagesState)
    child.add_node("use", _tool_user)
    child.add_edge(lib.START, "use")
    compiled_child = child.compile()
    found: dict[str, Any] = {}
    for label, config in (("subgraph", None), ("own", _thread("c")), ("caller", _thread("p"))):
        inside: list[Any] = []

        def node(state: Any, given: Any = config, inside: list = inside) -> dict:
            stream = compiled_child.stream({"messages": []}, given, stream_mode=["tools"])
            inside.extend(stream)
            compiled_child.invoke({"messages": []}, given)
            return {}

        parent = lib.StateGraph(lib.MessagesState)
        parent.add_node("node", node)
        parent.add_edge(lib.START, "node")
        graph = parent.compile()
        modes = ["tools", "updates"]
        found[label] = {
            "flat": parts(
                graph.stream({"messages": []}, _thread("p"), stream_mode=modes, version="v2")
            ),
            "nested": parts(
                graph.stream(
                    {"messages": []}, _thread("p"), stream_mode=modes, subgraphs=True, version="v2"
                )
            ),
            "inside": plain(inside),
        }
    return found


def child_graph_threads_are_saved_apart(lib: Any) -> Any:
    """Where a child graph's checkpoints go: under the caller's task when the node
    passes its own config on, nowhere (a graph of its own, without a checkpointer)
    when the call names a thread, even the caller's."""
    found = {}
    for label in ("passed_on", "passed_on_by_a_runnable", "callers_thread", "new_thread"):
        child = lib.StateGraph(LogState)
        child.add_node("c", lambda state: {"log": ["c"]})
        child.add_edge(lib.START, "c")
        compiled_child = child.compile()

        def node(
            state: LogState, config: RunnableConfig, label: str = label, child: Any = compiled_child
        ) -> dict:
            given = {
                "passed_on": config,
                "passed_on_by_a_runnable": config,
                "callers_thread": _thread("t"),
                "new_thread": _thread("other"),
            }[label]
            return {"log": child.invoke({"log": []}, given)["log"]}

        parent = lib.StateGraph(LogState)
        # a Runnable gives the node a copy of its config
        parent.add_node("node", RunnableLambda(node) if "runnable" in label else node)
        parent.add_edge(lib.START, "node")
        saver = lib.InMemorySaver()
        graph = parent.compile(checkpointer=saver)
        result = graph.invoke({"log": []}, _thread("t"))
        saved = sorted(
            {
                (c.config["configurable"]["thread_id"], names(tuple(ns.split("|"))) if ns else ())
                for thread in ("t", "other")
                for c in saver.list(_thread(thread))
                for ns in [c.config["configurable"]["checkpoint_ns"]]
            }
        )
        found[label] = {"result": result, "saved": saved}
    return found


# -- push_message ------------------------------------------------------------------


def push_message_streams_and_writes(lib: Any) -> Any:
    errors: list[Any] = []

    def chat(state: Any) -> None:
        try:
            lib.push_message(AIMessage("no id"))
        except ValueError as exc:
            errors.append(("ValueError", "Message ID is required" in str(exc)))
        lib.push_message(AIMessage("first", id="1"))
        lib.push_message(HumanMessage("second", id="2"))
        lib.push_message({"role": "ai", "content": "only streamed", "id": "3"}, state_key=None)

    graph = lib.StateGraph(lib.MessagesState)
    graph.add_node("chat", chat)
    graph.add_edge(lib.START, "chat")
    compiled = graph.compile()
    streamed = [
        plain(chunk if mode == "values" else chunk[0])
        for mode, chunk in compiled.stream({"messages": []}, stream_mode=["messages", "values"])
    ]
    return {
        "streamed": streamed,
        "invoke": plain(compiled.invoke({"messages": []})),
        "updates": plain(list(compiled.stream({"messages": []}, stream_mode="updates"))),
        "errors": errors,
    }


def push_message_namespaces(lib: Any) -> Any:
    def push(state: Any) -> dict:
        lib.push_message(AIMessage("hi", id="pushed"), state_key=None)
        return {}

    pushing = lib.StateGraph(lib.MessagesState)
    pushing.add_node("push", push)
    pushing.add_edge(lib.START, "push")
    pushing_graph = pushing.compile()
    received: list[Any] = []

    def streams_it(state: Any) -> dict:
        for message, _ in pushing_graph.stream({"messages": []}, stream_mode="messages"):
            received.append(message.id)
        return {}

    found = {}
    for label, node in (("sub", pushing_graph), ("node", streams_it)):
        parent = lib.StateGraph(lib.MessagesState)
        parent.add_node(label, node)
        parent.add_edge(lib.START, label)
        graph = parent.compile()
        found[label] = {
            subgraphs: parts(
                graph.stream(
                    {"messages": []}, stream_mode="messages", subgraphs=subgraphs, version="v2"
                )
            )
            for subgraphs in (False, True)
        }
    found["received"] = received
    return found


# -- task results and metadata -------------------------------------------------------


def tasks_results_fold_repeated_writes(lib: Any) -> Any:
    class State(TypedDict):
        foo: Annotated[str, lambda a, b: ", ".join(x for x in (a, b) if x)]

    graph = lib.StateGraph(State)
    graph.add_node("one", lambda state: lib.Command(update=[("foo", "a"), ("foo", "b")]))
    graph.add_node("two", lambda state: {"foo": "c"})
    graph.add_edge(lib.START, "one")
    graph.add_edge("one", "two")
    compiled = graph.compile(checkpointer=lib.InMemorySaver())
    streamed = list(compiled.stream({"foo": "in"}, _thread(), stream_mode=["tasks", "updates"]))
    history = [
        [(t.name, t.result) for t in snapshot.tasks]
        for snapshot in compiled.get_state_history(_thread())
    ]
    return {"streamed": plain(streamed), "history": plain(history)}


def messages_metadata_from_configurable(lib: Any) -> Any:
    graph = lib.StateGraph(lib.MessagesState)
    graph.add_node("say", lambda state: {"messages": [AIMessage("hi", id="hi")]})
    graph.add_edge(lib.START, "say")
    compiled = graph.compile()
    configurable = {
        "thread_id": "th",
        "checkpoint_id": "ck",
        "task_id": "tk",
        "run_id": "rn",
        "assistant_id": "as",
        "graph_id": "gr",
        "user_id": "us",
        "some_api_key": "secret",
        "empty": "",
    }
    ((_, metadata),) = compiled.stream(
        {"messages": []}, {"configurable": configurable}, stream_mode="messages"
    )
    return {key: metadata.get(key, "<absent>") for key in configurable}


SCENARIOS = [
    v2_each_mode,
    v2_subgraphs,
    v2_interrupts_and_invoke,
    v2_values_in_the_state_type,
    v2_checkpoints_in_the_state_type,
    v2_entrypoint,
    v2_async,
    tools_events,
    tools_in_a_subgraph,
    tools_and_tokens_in_tasks,
    tools_send_partial_output,
    child_graph_streams,
    child_graph_threads_are_saved_apart,
    push_message_streams_and_writes,
    push_message_namespaces,
    tasks_results_fold_repeated_writes,
    messages_metadata_from_configurable,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_same_as_langgraph(scenario: Any) -> None:
    expected = scenario(_lib("langgraph"))
    actual = scenario(_lib("graphpool"))
    assert actual == expected
