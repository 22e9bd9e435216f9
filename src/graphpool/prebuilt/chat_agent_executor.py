"""``create_react_agent``: the prebuilt tool-calling agent graph, as ``langgraph.prebuilt``'s.

LangGraph 1.x keeps it public though deprecated (``langchain.agents.create_agent``
replaces it); graphpool builds the same graph on its own :class:`StateGraph` and
:class:`ToolNode`::

    START -> [pre_model_hook] -> agent -> [post_model_hook] -> tools -> ... -> END
                                      \\-> [generate_structured_response] -> END

``agent`` calls the model on the prompt and the messages; while its last message
asks for tools, ``tools`` runs them (``version="v2"``: one ``Send`` per call,
``"v1"``: one task for all) and the agent goes again. A tool with
``return_direct`` ends the run after it. When the ``remaining_steps`` of the
recursion limit cannot fit another round of tools, the agent answers
"Sorry, need more steps to process this request." instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, get_type_hints

from .._lc import require

require("langchain_core.messages", "graphpool.prebuilt")

from langchain_core.messages import (  # noqa: E402
    AIMessage,
    AnyMessage,
    BaseMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import Runnable, RunnableLambda  # noqa: E402
from pydantic import BaseModel  # noqa: E402
from typing_extensions import NotRequired, TypedDict  # noqa: E402

from .._builder import StateGraph  # noqa: E402
from .._constants import END  # noqa: E402
from ..errors import InvalidConfigError, InvalidMessagesError, UnsupportedError  # noqa: E402
from ..graph.message import add_messages  # noqa: E402
from ..managed import RemainingSteps  # noqa: E402
from ..types import Send  # noqa: E402
from .tool_node import ToolNode  # noqa: E402

__all__ = [
    "AgentState",
    "AgentStatePydantic",
    "AgentStateWithStructuredResponse",
    "AgentStateWithStructuredResponsePydantic",
    "create_react_agent",
    "create_tool_calling_executor",
]

_MORE_STEPS = "Sorry, need more steps to process this request."


class AgentState(TypedDict):
    """The agent's state: the conversation, and the steps the run has left."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: NotRequired[RemainingSteps]


class AgentStatePydantic(BaseModel):
    """:class:`AgentState` as a pydantic model."""

    messages: Annotated[Sequence[BaseMessage], add_messages]
    remaining_steps: RemainingSteps = 25


class AgentStateWithStructuredResponse(AgentState):
    """:class:`AgentState` plus the ``response_format`` answer."""

    structured_response: Any


class AgentStateWithStructuredResponsePydantic(AgentStatePydantic):
    """:class:`AgentStateWithStructuredResponse` as a pydantic model."""

    structured_response: Any


def _get(state: Any, key: str, default: Any = None) -> Any:
    return state.get(key, default) if isinstance(state, dict) else getattr(state, key, default)


def _prompt_of(prompt: Any) -> Callable[[Any], Any]:
    """The prompt as a function of the state giving the model's input."""
    if prompt is None:
        return lambda state: _get(state, "messages")
    if isinstance(prompt, str):
        prompt = SystemMessage(content=prompt)
    if isinstance(prompt, SystemMessage):
        return lambda state: [prompt, *_get(state, "messages")]
    if isinstance(prompt, Runnable):
        return prompt.invoke
    if callable(prompt) and not inspect.iscoroutinefunction(prompt):
        return prompt
    raise InvalidConfigError(
        f"create_react_agent(prompt={prompt!r}): expected a str, a SystemMessage, a "
        "function of the state or a Runnable."
    )


def _bound(model: Any, tools: list[Any]) -> Any:
    """The model with the tools bound, unless it has them already (``bind_tools``)."""
    if isinstance(model, str):
        try:
            from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
        except ImportError as exc:
            raise UnsupportedError(
                f"create_react_agent(model={model!r}): a model name needs langchain "
                "(`pip install langchain`); or pass a chat model."
            ) from exc
        model = init_chat_model(model)
    if not tools:
        return model
    kwargs = getattr(model, "kwargs", None)
    if isinstance(kwargs, dict) and "tools" in kwargs:  # a RunnableBinding: bound already
        bound = kwargs["tools"]
        names = {
            t.get("function", {}).get("name") or t.get("name") for t in bound if isinstance(t, dict)
        }
        missing = {t.name for t in tools if not isinstance(t, dict)} - names
        if len(bound) != len(tools) or missing:
            raise InvalidConfigError(
                "create_react_agent: the tools bound to the model (model.bind_tools) and "
                f"the tools given differ: {len(bound)} bound, {len(tools)} given"
                + (f", missing {sorted(missing)}" if missing else "")
                + "."
            )
        return model
    return model.bind_tools(tools)


def _check_history(messages: Sequence[BaseMessage]) -> None:
    """Every tool call of an AIMessage must have its ToolMessage answer."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    open_calls = [
        call
        for m in messages
        if isinstance(m, AIMessage)
        for call in m.tool_calls
        if call["id"] not in answered
    ]
    if open_calls:
        raise InvalidMessagesError(
            "Found AIMessages with tool_calls that do not have a corresponding ToolMessage. "
            f"Here are the first few of those tool calls: {open_calls[:3]}. Every tool call "
            "needs its ToolMessage (the tool's result) before the model is called again."
        )


def create_react_agent(
    model: Any,
    tools: Sequence[Any] | ToolNode,
    *,
    prompt: Any = None,
    response_format: Any = None,
    pre_model_hook: Any = None,
    post_model_hook: Any = None,
    state_schema: type[Any] | None = None,
    context_schema: type[Any] | None = None,
    checkpointer: Any = None,
    store: Any = None,
    interrupt_before: list[str] | None = None,
    interrupt_after: list[str] | None = None,
    debug: bool = False,
    version: Literal["v1", "v2"] = "v2",
    name: str | None = None,
    **deprecated_kwargs: Any,
) -> Any:
    """A compiled graph that calls ``model`` and runs the tools it asks for, in a loop.

    Args:
        model: a chat model (tools are bound to it unless already bound), or a
            ``"provider:model"`` name (needs ``langchain``).
        tools: tools, functions, provider tool dicts, or a :class:`ToolNode`.
        prompt: a system prompt (str or ``SystemMessage``), or a function or
            Runnable of the state that gives the model's input.
        response_format: a schema (or ``(system prompt, schema)``): once done, the
            model's ``with_structured_output`` fills ``structured_response``.
        pre_model_hook / post_model_hook: nodes run before / after the model.
        state_schema: needs ``messages`` and ``remaining_steps`` keys
            (default :class:`AgentState`).
        context_schema, checkpointer, store, interrupt_before, interrupt_after,
        debug, name: as for ``StateGraph`` and ``compile``.
        version: ``"v2"`` runs each tool call as its own task, ``"v1"`` all in one.

    Raises:
        InvalidConfigError: an unknown ``version`` or argument, a ``state_schema``
            without the keys the agent needs, or tools bound to the model that
            differ from ``tools``.
        UnsupportedError: a model given as a function (a dynamic model).
    """
    if deprecated_kwargs:
        raise InvalidConfigError(
            f"create_react_agent() got unexpected keyword arguments: {deprecated_kwargs}"
        )
    if version not in ("v1", "v2"):
        raise InvalidConfigError(
            f"Invalid version {version}. Supported versions are 'v1' and 'v2'."
        )
    if state_schema is not None:
        needed = {"messages", "remaining_steps"} | (
            {"structured_response"} if response_format else set()
        )
        missing = needed - set(get_type_hints(state_schema))
        if missing:
            raise InvalidConfigError(f"Missing required key(s) {missing} in state_schema")
    else:
        state_schema = AgentStateWithStructuredResponse if response_format else AgentState
    if not isinstance(model, (str, Runnable)) and callable(model):
        raise UnsupportedError(
            "create_react_agent: a model chosen per call (a function of the state and "
            "runtime) is not supported by graphpool; pass a chat model."
        )

    if isinstance(tools, ToolNode):
        tool_node, builtin = tools, []
    else:
        builtin = [t for t in tools if isinstance(t, dict)]
        tool_node = ToolNode([t for t in tools if not isinstance(t, dict)])
    tool_classes = list(tool_node.tools_by_name.values())
    chat = _bound(model, [*tool_classes, *builtin])
    to_input = _prompt_of(prompt)
    return_direct = {t.name for t in tool_classes if t.return_direct}
    is_pydantic = isinstance(state_schema, type) and issubclass(state_schema, BaseModel)

    def model_input(state: Any) -> Any:
        messages = _get(state, "llm_input_messages") if pre_model_hook is not None else None
        messages = messages or _get(state, "messages")
        if messages is None:
            raise InvalidMessagesError(
                f"Expected input to call_model to have a 'messages' key, but got {state}"
            )
        _check_history(messages)
        if is_pydantic:
            state.messages = messages
        else:
            state["messages"] = messages
        return to_input(state)

    def answer(state: Any, response: Any) -> dict[str, Any]:
        response.name = name
        is_ai = isinstance(response, AIMessage)
        calls = response.tool_calls if is_ai else []
        # (LangGraph's rule: on the last step even an answer without tool calls
        # counts as "all return_direct", so it is replaced too)
        all_direct = is_ai and all(call["name"] in return_direct for call in calls)
        remaining = _get(state, "remaining_steps")
        if remaining is not None and (
            (remaining < 1 and all_direct) or (remaining < 2 and bool(calls))
        ):
            return {"messages": [AIMessage(id=response.id, content=_MORE_STEPS)]}
        return {"messages": [response]}

    def call_model(state: Any, config: Any) -> dict[str, Any]:
        return answer(state, chat.invoke(model_input(state), config))

    async def acall_model(state: Any, config: Any) -> dict[str, Any]:
        return answer(state, await chat.ainvoke(model_input(state), config))

    def structured(state: Any) -> tuple[Any, list[Any]]:
        messages = list(_get(state, "messages"))
        schema = response_format
        if isinstance(response_format, tuple):
            system, schema = response_format
            messages = [SystemMessage(content=system), *messages]
        target = getattr(chat, "bound", chat)
        return target.with_structured_output(schema), messages

    def generate_structured_response(state: Any, config: Any) -> dict[str, Any]:
        runnable, messages = structured(state)
        return {"structured_response": runnable.invoke(messages, config)}

    async def agenerate_structured_response(state: Any, config: Any) -> dict[str, Any]:
        runnable, messages = structured(state)
        return {"structured_response": await runnable.ainvoke(messages, config)}

    input_schema: Any = state_schema
    if pre_model_hook is not None:
        input_schema = _with_llm_input(state_schema, is_pydantic)

    graph: StateGraph[Any] = StateGraph(state_schema, context_schema)
    agent: Any = RunnableLambda(call_model, afunc=acall_model, name="agent")  # sync and async
    graph.add_node("agent", agent, input_schema=input_schema)
    entry = "agent"
    if pre_model_hook is not None:
        graph.add_node("pre_model_hook", pre_model_hook)
        graph.add_edge("pre_model_hook", "agent")
        entry = "pre_model_hook"
    graph.set_entry_point(entry)
    if post_model_hook is not None:
        graph.add_node("post_model_hook", post_model_hook)
        graph.add_edge("agent", "post_model_hook")
    if response_format is not None:
        respond: Any = RunnableLambda(
            generate_structured_response,
            afunc=agenerate_structured_response,
            name="generate_structured_response",
        )
        graph.add_node("generate_structured_response", respond)
    finish = "generate_structured_response" if response_format is not None else END

    compile_with = {
        "checkpointer": checkpointer,
        "store": store,
        "interrupt_before": interrupt_before,
        "interrupt_after": interrupt_after,
        "debug": debug,
        "name": name,
    }
    if not tool_classes:
        if finish != END:
            graph.add_edge("post_model_hook" if post_model_hook is not None else "agent", finish)
        return graph.compile(**compile_with)

    def tool_sends(calls: list[Any]) -> list[Send]:
        return [Send("tools", [call]) for call in calls]

    def should_continue(state: Any) -> Any:
        last = _get(state, "messages")[-1]
        if not isinstance(last, AIMessage) or not last.tool_calls:
            return "post_model_hook" if post_model_hook is not None else finish
        if version == "v1":
            return "tools"
        if post_model_hook is not None:
            return "post_model_hook"
        return tool_sends(last.tool_calls)

    graph.add_node("tools", tool_node)
    if post_model_hook is None:
        graph.add_conditional_edges("agent", should_continue, ["tools", finish])
    else:

        def after_hook(state: Any) -> Any:
            messages = _get(state, "messages")
            done = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
            last_ai = next(m for m in reversed(messages) if isinstance(m, AIMessage))
            pending = [c for c in last_ai.tool_calls if c["id"] not in done]
            if pending:
                return tool_sends(pending)
            if isinstance(messages[-1], ToolMessage):
                return entry
            return finish

        graph.add_conditional_edges("post_model_hook", after_hook, [entry, "tools", finish])

    def after_tools(state: Any) -> str:
        message: Any = None
        for message in reversed(_get(state, "messages")):
            if not isinstance(message, ToolMessage):
                break
            if message.name in return_direct:
                return END
        if isinstance(message, AIMessage) and any(
            call["name"] in return_direct for call in message.tool_calls
        ):
            return END
        return entry

    if return_direct:
        graph.add_conditional_edges("tools", after_tools, [entry, END])
    else:
        graph.add_edge("tools", entry)
    return graph.compile(**compile_with)


def _with_llm_input(state_schema: Any, is_pydantic: bool) -> Any:
    """The agent node's input: the state plus ``llm_input_messages`` (a pre-model hook's)."""
    if is_pydantic:
        from pydantic import create_model

        return create_model(
            "CallModelInputSchema",
            llm_input_messages=(list[AnyMessage], ...),
            __base__=state_schema,
        )
    return type(
        "CallModelInputSchema",
        (state_schema,),
        {"__annotations__": {"llm_input_messages": NotRequired[list[AnyMessage]]}},
    )


create_tool_calling_executor = create_react_agent
