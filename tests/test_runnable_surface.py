"""The compiled graph as a LangChain Runnable: default config, copies, JSON schemas,
composition with langchain-core, and ``astream_events``; compared with LangGraph
where both libraries run the same graph."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import operator
import subprocess
import sys
from typing import Annotated, Any, Optional

import langgraph.graph as lg
import pydantic
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableLambda
from typing_extensions import TypedDict

import graphpool
from graphpool import (
    START,
    GraphRecursionError,
    InvalidConfigError,
    StateGraph,
)

pytestmark = pytest.mark.timeout(60)


class TD(TypedDict):
    a: str
    b: Annotated[list[int], operator.add]


class Partial(TypedDict, total=False):
    a: str
    c: Optional[int]  # noqa: UP045 - the typing form LangGraph's users write


@dataclasses.dataclass
class DC:
    a: str
    b: Annotated[list[int], operator.add] = dataclasses.field(default_factory=list)
    c: Optional[int] = None  # noqa: UP045
    d: int = 3


class Model(pydantic.BaseModel):
    a: str
    b: Annotated[list[int], operator.add] = []


class In(TypedDict):
    a: str


class Out(TypedDict):
    b: list[int]


class Ctx(TypedDict):
    user: str


@dataclasses.dataclass
class CtxData:
    user: str = "x"


def _one_node(state_graph: Any, schema: Any, **kw: Any) -> Any:
    g = state_graph(schema, **kw)
    g.add_node("n", lambda s: {})
    g.add_edge("__start__", "n")
    return g.compile()


SCHEMAS = [
    (TD, {}),
    (Partial, {}),
    (DC, {}),
    (Model, {}),
    (TD, {"input_schema": In, "output_schema": Out}),
    (DC, {"context_schema": Ctx}),
    (TD, {"context_schema": CtxData}),
    (TD, {"context_schema": Model}),
]


@pytest.mark.parametrize(("schema", "options"), SCHEMAS, ids=lambda v: getattr(v, "__name__", ""))
def test_json_schemas_are_langgraphs(schema: Any, options: dict[str, Any]) -> None:
    theirs = _one_node(lg.StateGraph, schema, **options)
    ours = _one_node(StateGraph, schema, **options)
    for method in ("get_input_jsonschema", "get_output_jsonschema", "get_context_jsonschema"):
        expected, actual = getattr(theirs, method)(), getattr(ours, method)()
        assert json.dumps(actual) == json.dumps(expected), method  # key order included
    for made in (ours.get_input_schema(), ours.get_output_schema()):
        assert issubclass(made, pydantic.BaseModel)
    if schema is not TD and schema is not Partial:  # a TypedDict's is its TypeAdapter's
        assert ours.get_input_schema().model_json_schema() == ours.get_input_jsonschema()


def test_a_context_schema_without_json_schema_is_refused() -> None:
    graph = _one_node(StateGraph, TD, context_schema=int)
    with pytest.raises(InvalidConfigError, match="Invalid context schema type"):
        graph.get_context_jsonschema()
    assert _one_node(StateGraph, TD).get_context_jsonschema() is None


def test_importing_and_configuring_a_graph_does_not_import_langchain() -> None:
    code = (
        "import sys, graphpool\n"
        "from typing_extensions import TypedDict\n"
        "class S(TypedDict):\n    x: int\n"
        "b = graphpool.StateGraph(S)\nb.add_node('a', lambda s: {'x': s['x'] + 1})\n"
        "b.add_edge(graphpool.START, 'a')\n"
        "g = b.compile().with_config(tags=['t']).copy()\n"
        "assert g.invoke({'x': 1}) == {'x': 2}\n"
        "assert g.get_graph().to_json()['nodes'][1]['id'] == 'a'\n"
        "assert 'langchain_core' not in sys.modules, 'langchain_core was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# -- default config and copies -------------------------------------------------------


class Log(TypedDict):
    log: Annotated[list, operator.add]


def _chain(n: int = 1, seen: list | None = None) -> Any:
    def node(state: Log, config: dict) -> dict:
        if seen is not None:
            seen.append(config)
        return {"log": [len(state["log"])]}

    b = StateGraph(Log)
    for i in range(n):
        b.add_node(f"n{i}", node)
        b.add_edge(START if i == 0 else f"n{i - 1}", f"n{i}")
    return b.compile()


def test_with_config_sets_defaults_under_each_calls_config() -> None:
    seen: list[dict] = []
    graph = _chain(seen=seen)
    bound = graph.with_config(tags=["a"], configurable={"user": "u", "k": 1}, metadata={"m": 1})
    assert bound is not graph and graph.config is None
    bound.invoke({"log": []}, {"tags": ["b"], "configurable": {"k": 2}})
    config = seen[-1]
    assert config["tags"] == ["a", "b"]
    assert config["configurable"]["user"] == "u" and config["configurable"]["k"] == 2
    assert config["metadata"]["m"] == 1
    graph.invoke({"log": []})
    assert "a" not in seen[-1].get("tags", [])
    again = bound.with_config({"configurable": {"other": 3}})
    again.invoke({"log": []})
    assert seen[-1]["configurable"]["user"] == "u" and seen[-1]["configurable"]["other"] == 3


def test_with_config_recursion_limit_applies() -> None:
    graph = _chain(4).with_config(recursion_limit=2)
    with pytest.raises(GraphRecursionError):
        graph.invoke({"log": []})
    assert graph.invoke({"log": []}, {"recursion_limit": 10}) == {"log": [0, 1, 2, 3]}


def test_copy_is_a_separate_graph() -> None:
    graph = _chain(2)
    renamed = graph.copy({"name": "other"})
    assert renamed.get_name() == "other" and graph.get_name() == "LangGraph"
    assert renamed.get_name("Input") == "otherInput"
    assert graph.copy().invoke({"log": []}) == graph.invoke({"log": []})
    with pytest.raises(InvalidConfigError, match="no attribute 'nope'"):
        graph.copy({"nope": 1})


# -- composition with langchain-core ----------------------------------------------------


def test_with_retry_runs_the_graph_again() -> None:
    calls: list[int] = []

    def flaky(state: Log) -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first time")
        return {"log": ["ok"]}

    b = StateGraph(Log)
    b.add_node("flaky", flaky)
    b.add_edge(START, "flaky")
    retried = b.compile().with_retry(stop_after_attempt=2, retry_if_exception_type=(ValueError,))
    assert isinstance(retried, Runnable)
    assert retried.invoke({"log": []}) == {"log": ["ok"]}
    assert len(calls) == 2


def test_a_graph_pipes_with_runnables() -> None:
    graph = _chain(2)
    assert (graph | RunnableLambda(lambda s: len(s["log"]))).invoke({"log": []}) == 2
    # on the right of a Runnable, the graph goes as its Runnable (it is not one itself)
    feed = RunnableLambda(lambda n: {"log": [9] * n})
    assert (feed | graph.as_runnable()).invoke(1) == {"log": [9, 1, 2]}
    assert graph.pipe(RunnableLambda(lambda s: s["log"][-1])).invoke({"log": []}) == 1
    fallback = graph.with_fallbacks([RunnableLambda(lambda s: "fallback")])
    assert fallback.invoke({"log": []}) == {"log": [0, 1]}
    assert asyncio.run(graph.as_runnable().ainvoke({"log": []})) == {"log": [0, 1]}


# -- astream_events ------------------------------------------------------------------------


class V(TypedDict):
    v: Annotated[list, operator.add]


def _model_graph(library: Any, fail: bool = False) -> Any:
    model = GenericFakeChatModel(messages=iter([AIMessage("hello world")]))

    def a(state: V) -> dict:
        return {"v": ["a"]}

    async def b(state: V) -> dict:
        if fail:
            raise KeyError("boom")
        message = await model.ainvoke("hi")
        return {"v": [message.content]}

    g = library.StateGraph(V)
    g.add_node("a", a)
    g.add_node("b", b)
    g.add_edge(library.START, "a")
    g.add_edge("a", "b")
    return g.compile()


def _events(graph: Any, **kwargs: Any) -> list[dict]:
    async def go() -> list[dict]:
        config = {"tags": ["T"], "metadata": {"m": 1}}
        return [e async for e in graph.astream_events({"v": []}, config, **kwargs)]

    return asyncio.run(go())


def _chain_events(events: list[dict]) -> list[tuple]:
    """What the graph's and its nodes' events say (their ids and checkpoint
    namespaces are each library's own)."""
    keys = ("langgraph_step", "langgraph_node", "langgraph_triggers", "m")
    return [
        (
            e["event"],
            e["name"],
            len(e["parent_ids"]),
            e["tags"],
            {k: e["metadata"][k] for k in keys if k in e["metadata"]},
            e["data"],
        )
        for e in events
        if e["event"].startswith("on_chain")
    ]


def test_astream_events_are_langgraphs() -> None:
    theirs, ours = _events(_model_graph(lg)), _events(_model_graph(graphpool))
    assert _chain_events(ours) == _chain_events(theirs)
    tokens = [e["data"]["chunk"].content for e in ours if e["event"] == "on_chat_model_stream"]
    assert "".join(tokens) == "hello world"
    model = next(e for e in ours if e["event"] == "on_chat_model_start")
    assert model["metadata"]["langgraph_node"] == "b"  # what streaming UIs filter on
    assert model["parent_ids"][0] == ours[0]["run_id"]  # under the graph's run


def test_astream_events_with_modes_and_filters_are_langgraphs() -> None:
    for kwargs in (
        {"stream_mode": ["values", "updates"]},
        {"stream_mode": "values", "include_names": ["a", "LangGraph"]},
        {"exclude_types": ["chat_model"], "include_tags": ["graph:step:2"]},
    ):
        theirs = _events(_model_graph(lg), **kwargs)
        ours = _events(_model_graph(graphpool), **kwargs)
        assert _chain_events(ours) == _chain_events(theirs), kwargs


def test_astream_events_of_a_failing_run_end_with_its_error() -> None:
    for library in (lg, graphpool):
        with pytest.raises(KeyError, match="boom"):
            _events(_model_graph(library, fail=True))

    async def seen(graph: Any) -> list[tuple]:
        out = []
        try:
            async for e in graph.astream_events({"v": []}):
                out.append((e["event"], e["name"]))
        except KeyError:
            pass
        return out

    ours = asyncio.run(seen(_model_graph(graphpool, fail=True)))
    assert asyncio.run(seen(_model_graph(lg, fail=True))) == ours
    assert ("on_chain_start", "b") in ours and ("on_chain_end", "LangGraph") not in ours


def test_astream_events_of_a_graph_inside_a_sequence_are_langgraphs() -> None:
    def events(library: Any) -> list[tuple]:
        sequence = _model_graph(library) | RunnableLambda(lambda s: s)

        async def go() -> list[dict]:
            return [e async for e in sequence.astream_events({"v": []})]

        found = asyncio.run(go())
        assert found[-1]["data"]["output"] == {"b": {"v": ["hello world"]}}  # streamed updates
        return [
            (e["event"], e["name"], len(e["parent_ids"])) for e in found if "chain" in e["event"]
        ]

    assert events(graphpool) == events(lg)
