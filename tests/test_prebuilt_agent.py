"""``create_react_agent`` on graphpool and on LangGraph: same messages, same steps."""

import asyncio
import importlib
import warnings
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from lc_fakes import ToolCallingFakeModel, ToolLog, comparable, make_tools, script
from typing_extensions import NotRequired

pytestmark = pytest.mark.timeout(30)

LIBS = ("langgraph", "graphpool")
QUESTION = {"messages": [HumanMessage("Weather and population of Paris?", id="human-1")]}


def _agent(lib: str, *, model: Any = None, tools: Any = None, **kw: Any) -> Any:
    """An agent with a fresh model (``model``: a function making one)."""
    prebuilt = importlib.import_module(f"{lib}.prebuilt")
    model = model() if model else ToolCallingFakeModel(messages=iter(script()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangGraph's is deprecated
        return prebuilt.create_react_agent(
            model, make_tools(ToolLog()) if tools is None else tools, **kw
        )


def _run(lib: str, config: dict | None = None, **kw: Any) -> Any:
    agent = _agent(lib, **kw)
    updates = [sorted(c) for c in agent.stream(QUESTION, config, stream_mode="updates")]
    return comparable(_agent(lib, **kw).invoke(QUESTION, config)["messages"]), updates


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("prompt", [None, "Be brief."])
def test_agent_matches_langgraph(version: str, prompt: str | None) -> None:
    assert _run("graphpool", version=version, prompt=prompt) == _run(
        "langgraph", version=version, prompt=prompt
    )


def test_async_agent_matches_langgraph() -> None:
    def run(lib: str) -> Any:
        return comparable(asyncio.run(_agent(lib).ainvoke(QUESTION))["messages"])

    assert run("graphpool") == run("langgraph")


def _messages_until_error(lib: str, limit: int, **kw: Any) -> list:
    """The updates' messages as far as the run gets, then the error's type name."""
    seen: list[Any] = []
    try:
        for chunk in _agent(lib, **kw).stream(QUESTION, {"recursion_limit": limit}):
            for node, update in sorted(chunk.items()):
                seen.append((node, comparable((update or {}).get("messages", []))))
    except Exception as exc:  # a GraphRecursionError on both sides
        seen.append(type(exc).__name__)
    return sorted(seen, key=repr)


@pytest.mark.parametrize("limit", [2, 3, 4])
@pytest.mark.parametrize("schema", ["AgentState", "AgentStatePydantic"])
def test_too_few_steps_left_ends_with_an_apology(limit: int, schema: str) -> None:
    def run(lib: str) -> Any:
        state = getattr(importlib.import_module(f"{lib}.prebuilt.chat_agent_executor"), schema)
        return _messages_until_error(lib, limit, state_schema=state)

    assert run("graphpool") == run("langgraph")


def test_return_direct_tool_ends_the_run() -> None:
    @tool(return_direct=True)
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    calls = [{"name": "weather", "args": {"city": "Paris"}, "id": "c1"}]

    def model() -> Any:
        return ToolCallingFakeModel(messages=iter([AIMessage("", id="a1", tool_calls=calls)]))

    def run(lib: str) -> Any:
        return _run(lib, model=model, tools=[weather])

    assert run("graphpool") == run("langgraph")


def test_injected_state_of_a_custom_schema() -> None:
    def run(lib: str) -> Any:
        prebuilt = importlib.import_module(f"{lib}.prebuilt")
        executor = importlib.import_module(f"{lib}.prebuilt.chat_agent_executor")

        class State(executor.AgentState):
            city: NotRequired[str]

        @tool
        def where(city: Annotated[str | None, prebuilt.InjectedState("city")] = None) -> str:
            """The city the state names."""
            return f"city={city}"

        calls = [{"name": "where", "args": {}, "id": "c1"}]
        replies = [AIMessage("", id="a1", tool_calls=calls), AIMessage("ok", id="a2")]
        model = ToolCallingFakeModel(messages=iter(replies))
        agent = _agent(lib, model=lambda: model, tools=[where], state_schema=State)
        out = agent.invoke({**QUESTION, "city": "Oslo"})
        return comparable(out["messages"]), sorted(out)

    assert run("graphpool") == run("langgraph")


def test_a_state_schema_without_the_agent_keys_is_refused() -> None:
    from typing_extensions import TypedDict

    from graphpool.errors import InvalidConfigError

    class Bare(TypedDict):
        messages: list

    with pytest.raises(InvalidConfigError, match="remaining_steps"):
        _agent("graphpool", state_schema=Bare)


def test_model_hooks_match_langgraph() -> None:
    # (v2 only: LangGraph's v1 routes "tools" past a post_model_hook it has no edge for)
    seen: dict[str, list[int]] = {"langgraph": [], "graphpool": []}

    def run(lib: str) -> Any:
        def pre(state: Any) -> dict:
            seen[lib].append(len(state["messages"]))
            return {"llm_input_messages": state["messages"][-1:]}

        def post(state: Any) -> dict:
            return {}

        return _run(lib, pre_model_hook=pre, post_model_hook=post)

    assert run("graphpool") == run("langgraph")
    assert seen["graphpool"] == seen["langgraph"]
