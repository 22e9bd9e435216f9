"""``ToolNode`` and ``tools_condition``: the tool half of a ReAct agent.

Behaves like ``langgraph.prebuilt.ToolNode``: it reads the tool calls of the
latest AI message and answers each with a ``ToolMessage``, in tool-call order.
The calls run side by side on a graphpool worker pool (see ``_parallel``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union

from .._lc import require

require("langchain_core.tools", "graphpool.prebuilt (ToolNode, tools_condition)")

from langchain_core.messages import AIMessage, ToolCall, ToolMessage  # noqa: E402
from langchain_core.tools import BaseTool, ToolException  # noqa: E402
from langchain_core.tools import tool as as_tool  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from .._checks import check_positive_int  # noqa: E402
from .._pool import WorkerPool, default_pool  # noqa: E402
from ..errors import InvalidConfigError, InvalidMessagesError, InvalidUpdateError  # noqa: E402
from ..types import Command, Send  # noqa: E402
from ._parallel import map_on_pool  # noqa: E402

__all__ = ["ToolInvocationError", "ToolNode", "tools_condition"]

ErrorHandling = Union[  # noqa: UP007 - evaluated at runtime on 3.10
    bool, str, Callable[..., str], type[Exception], tuple[type[Exception], ...]
]

# The texts the model reads back; LangGraph's wording, so agents behave the same.
_UNKNOWN_TOOL = "Error: {name} is not a valid tool, try one of [{known}]."
_TOOL_FAILED = "Error: {error!r}\n Please fix your mistakes."
_BAD_ARGS = (
    "Error invoking tool '{name}' with kwargs {args} with error:\n"
    " {details}\n"
    " Please fix the error and try again."
)
# Content blocks a ToolMessage may carry as they are; anything else becomes JSON text.
_BLOCK_TYPES = frozenset({"text", "image_url", "image", "json", "search_result", "custom"})


class ToolInvocationError(ToolException):
    """The model called a tool with arguments that fail the tool's schema.

    By default ``ToolNode`` turns it into an error ``ToolMessage`` (the model can
    fix its arguments); every other exception from a tool is raised.

    Attributes:
        tool_name, tool_kwargs: the failing call; source: the ValidationError.
    """

    def __init__(self, tool_name: str, source: ValidationError, tool_kwargs: Any) -> None:
        details = "\n".join(
            f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg')}"
            for error in source.errors()
        )
        self.message = _BAD_ARGS.format(name=tool_name, args=tool_kwargs, details=details)
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.source = source
        super().__init__(self.message)


def _only_bad_args(error: Exception) -> str:
    if isinstance(error, ToolInvocationError):
        return error.message
    raise error


def _handled_types(handler: Callable[..., str]) -> tuple[type[BaseException], ...]:
    """The exception types a handler declares for its first parameter (default: all)."""
    try:
        params = list(inspect.signature(handler).parameters.values())
        hints = typing.get_type_hints(handler)
    except (TypeError, ValueError, NameError):
        return (Exception,)
    if not params or params[0].name not in hints:
        return (Exception,)
    hint = hints[params[0].name]
    if typing.get_origin(hint) in (Union, types.UnionType):
        options = typing.get_args(hint)
    else:
        options = (hint,)
    if not all(isinstance(t, type) and issubclass(t, Exception) for t in options):
        raise InvalidConfigError(
            f"The error handler {handler!r} must annotate its first parameter with an "
            f"Exception type or a Union of them, got {hint!r}."
        )
    return tuple(options)


class ToolNode:
    """A node that runs the tool calls of the latest AI message, in parallel.

    Args:
        tools: ``BaseTool`` objects or plain functions (made into tools with
            langchain-core's ``@tool``).
        name: the node's default name (``add_node(ToolNode(...))`` adds "tools").
        tags: added to the config each tool is invoked with.
        handle_tool_errors: which tool errors become an error ``ToolMessage``
            (``status="error"``) instead of failing the run: by default only
            :class:`ToolInvocationError` (bad arguments); ``True`` or a string
            (the message text) for all; an exception type or tuple of them; a
            function ``f(error) -> str`` (handles the types its first parameter
            is annotated with); ``False`` for none.
        messages_key: the state key holding the messages.
        pool: where the calls run (default: graphpool's shared thread pool).
        max_parallel: most calls at once (default: all); the run's
            ``max_concurrency`` config, if set, caps it too.

    Input: a state with ``messages_key``, a list of messages, or a list of tool
    call dicts. Output: ``{messages_key: [ToolMessage, ...]}`` (a list for list
    input), one message per call in call order. Tools may return a
    ``Command`` (LangGraph's ``langgraph.types.Command``, which langchain-core
    passes through; it becomes graphpool's): the output is then a list of
    commands and updates in call order, as in LangGraph.
    An unknown tool name gets an error ``ToolMessage`` listing the known tools.
    """

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: Sequence[str] | None = None,
        handle_tool_errors: ErrorHandling = _only_bad_args,
        messages_key: str = "messages",
        pool: WorkerPool | None = None,
        max_parallel: int | None = None,
    ) -> None:
        if max_parallel is not None:
            max_parallel = check_positive_int(
                max_parallel, "ToolNode: max_parallel", InvalidConfigError
            )
        self.name = name
        self.tags = list(tags or ())
        self.messages_key = messages_key
        self.pool = pool
        self.max_parallel = max_parallel
        self._handle = handle_tool_errors
        self._handled = self._handled_by(handle_tool_errors)
        self._tools: dict[str, BaseTool] = {}
        for item in tools:
            made = item if isinstance(item, BaseTool) else as_tool(item)
            self._tools[made.name] = made

    def __repr__(self) -> str:
        return f"ToolNode(name={self.name!r}, tools={list(self._tools)})"

    @property
    def tools_by_name(self) -> dict[str, BaseTool]:
        """The tools, by the name the model calls them with."""
        return dict(self._tools)

    @staticmethod
    def _handled_by(flag: ErrorHandling) -> tuple[type[BaseException], ...]:
        if flag is False:
            return ()
        if isinstance(flag, type) and issubclass(flag, Exception):
            return (flag,)
        if isinstance(flag, tuple):
            return flag
        if callable(flag) and not isinstance(flag, type):
            return _handled_types(flag)
        return (Exception,)

    # -- running ----------------------------------------------------------------

    def __call__(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """Run every tool call of the input; see the class docstring."""
        calls, shape = self._parse(input)
        config = dict(config or {})
        if self.tags:
            config["tags"] = [*(config.get("tags") or ()), *self.tags]
        limits = [n for n in (self.max_parallel, config.get("max_concurrency")) if n]
        outputs = map_on_pool(
            lambda call: self._run_one(call, dict(config)),
            calls,
            self.pool or default_pool(),
            min(limits) if limits else None,
        )
        return self._combine(outputs, shape)

    invoke = __call__

    async def ainvoke(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """:meth:`invoke` from async code (the calls still run on the pool)."""
        return await asyncio.to_thread(self, input, config)

    def _parse(self, input: Any) -> tuple[list[ToolCall], str]:
        if isinstance(input, list) and input and isinstance(input[-1], dict):
            if input[-1].get("type") == "tool_call":
                return list(input), "tool_calls"
        if isinstance(input, list):
            messages, shape = input, "list"
        elif isinstance(input, dict):
            messages, shape = input.get(self.messages_key) or [], "dict"
        else:
            messages, shape = getattr(input, self.messages_key, None) or [], "dict"
        if not messages:
            raise InvalidMessagesError(
                f"ToolNode {self.name!r}: no messages found in its input (key "
                f"{self.messages_key!r})."
            )
        for message in reversed(messages):
            if isinstance(message, AIMessage):
                return list(message.tool_calls), shape
        raise InvalidMessagesError(f"ToolNode {self.name!r}: no AIMessage found in its input.")

    def _run_one(self, call: ToolCall, config: dict[str, Any]) -> Any:
        tool = self._tools.get(call["name"])
        if tool is None:
            content = _UNKNOWN_TOOL.format(name=call["name"], known=", ".join(self._tools))
            return ToolMessage(content, name=call["name"], tool_call_id=call["id"], status="error")
        try:
            try:
                response = _invoke(tool, {**call, "type": "tool_call"}, config)
            except ValidationError as exc:
                raise ToolInvocationError(call["name"], exc, call["args"]) from exc
            return _normalise(response, call["name"])
        except Exception as exc:
            if not isinstance(exc, self._handled):
                raise
            return ToolMessage(
                self._error_text(exc), name=call["name"], tool_call_id=call["id"], status="error"
            )

    def _error_text(self, error: Exception) -> str:
        flag = self._handle
        if isinstance(flag, str):
            return flag
        if callable(flag) and not isinstance(flag, type):
            return flag(error)
        return _TOOL_FAILED.format(error=error)

    def _combine(self, outputs: list[Any], shape: str) -> Any:
        flat: list[Any] = []
        for output in outputs:
            flat.extend(output if isinstance(output, list) else [output])
        if not any(isinstance(o, Command) for o in flat):
            return flat if shape == "list" else {self.messages_key: flat}
        return [
            o if isinstance(o, Command) else ([o] if shape == "list" else {self.messages_key: [o]})
            for o in flat
        ]


def _invoke(tool: BaseTool, call: dict[str, Any], config: dict[str, Any]) -> Any:
    """Invoke a tool from a worker thread; async-only tools run on graphpool's loop."""
    if getattr(tool, "func", True) is None and getattr(tool, "coroutine", None) is not None:
        from .._pool._loop import run_coroutine

        return run_coroutine(tool.ainvoke(call, config))  # type: ignore[arg-type]
    return tool.invoke(call, config)  # type: ignore[arg-type]


def _normalise(response: Any, name: str) -> Any:
    """Check a tool's return value; give a ToolMessage's content a model-ready form."""
    if isinstance(response, ToolMessage):
        response.content = _content(response.content)
        return response
    command = _command(response)
    if command is not None:
        return command
    if isinstance(response, list) and all(
        isinstance(r, ToolMessage) or _command(r) is not None for r in response
    ):
        return [_normalise(r, name) for r in response]
    raise InvalidUpdateError(
        f"Tool {name!r} returned {type(response).__name__}; a tool called by ToolNode must "
        "return a ToolMessage, a Command, or a list of those."
    )


def _command(value: Any) -> Command | None:
    """A tool's ``Command`` as graphpool's, or None.

    langchain-core passes a tool's return value through only if it is one of its
    ``ToolOutputMixin`` objects, as LangGraph's ``Command`` is and graphpool's
    (which must not import langchain-core) is not; a tool written for LangGraph
    returns ``langgraph.types.Command``, translated here.
    """
    if isinstance(value, Command):
        return value
    kind = type(value)
    if kind.__name__ != "Command" or not kind.__module__.startswith("langgraph."):
        return None
    if value.graph is not None:
        raise InvalidUpdateError(
            f"A tool returned Command(graph={value.graph!r}); graphpool supports only "
            "commands for the current graph."
        )
    targets = value.goto if isinstance(value.goto, (list, tuple)) else [value.goto]
    goto = [Send(t.node, t.arg) if type(t).__name__ == "Send" else t for t in targets]
    return Command(update=value.update, resume=value.resume, goto=goto)


def _content(content: Any) -> Any:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(
        isinstance(block, dict) and block.get("type") in _BLOCK_TYPES for block in content
    ):
        return content
    try:
        return json.dumps(content, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(content)


def tools_condition(state: Any, messages_key: str = "messages") -> Literal["tools", "__end__"]:
    """Route a ReAct agent: ``"tools"`` if the last message asks for tool calls, else END.

    Use it as ``add_conditional_edges("agent", tools_condition)``; ``state`` may
    be a list of messages, a dict or an object with ``messages_key``.

    Raises:
        InvalidMessagesError: the state has no messages (a ``ValueError``).
    """
    if isinstance(state, list):
        messages = state
    elif isinstance(state, dict):
        messages = state.get(messages_key) or []
    else:
        messages = getattr(state, messages_key, None) or []
    if not messages:
        raise InvalidMessagesError(f"tools_condition found no messages in the state: {state!r}")
    if getattr(messages[-1], "tool_calls", None):
        return "tools"
    return "__end__"
