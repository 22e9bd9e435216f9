"""What a tool call's outcome becomes in ``ToolNode``: a message, a command, or an
error message the model reads back (in LangGraph's words, so agents behave the same)."""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Callable
from typing import Any, Union

from .._lc import require

require("langchain_core.tools", "graphpool.prebuilt (ToolNode, tools_condition)")

from langchain_core.messages import ToolMessage  # noqa: E402
from langchain_core.tools import ToolException  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from ..errors import InvalidConfigError, InvalidUpdateError  # noqa: E402
from ..types import Command, Send  # noqa: E402
from ._injection import InjectedArgs  # noqa: E402

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "ErrorHandling",
    "ToolInvocationError",
    "error_text",
    "handled_types",
    "normalise",
]

ErrorHandling = Union[  # noqa: UP007 - evaluated at runtime on 3.10
    bool, str, Callable[..., str], type[Exception], tuple[type[Exception], ...]
]

INVALID_TOOL_NAME_ERROR_TEMPLATE = (
    "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
)
"""The message answering a call of a tool the ``ToolNode`` does not have."""
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."
"""The message answering a call whose tool failed (``{error}`` is the exception's repr)."""
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
    fix its arguments); every other exception from a tool is raised. The message
    lists only the arguments the model gave (not the injected ones).

    Attributes:
        tool_name, tool_kwargs: the failing call (the model's arguments);
        source: the ValidationError.
    """

    def __init__(
        self,
        tool_name: str,
        source: ValidationError,
        tool_kwargs: Any,
        injected: InjectedArgs | None = None,
    ) -> None:
        hidden = injected.hidden if injected is not None else frozenset()
        details = "\n".join(
            f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg')}"
            for error in source.errors()
            if not (error.get("loc") and error["loc"][0] in hidden)
        )
        self.message = _BAD_ARGS.format(name=tool_name, args=tool_kwargs, details=details)
        self.tool_name = tool_name
        self.tool_kwargs = tool_kwargs
        self.source = source
        super().__init__(self.message)


def only_bad_args(error: Exception) -> str:
    """The default ``handle_tool_errors``: bad arguments become a message, all else raises."""
    if isinstance(error, ToolInvocationError):
        return error.message
    raise error


def handled_types(flag: ErrorHandling) -> tuple[type[BaseException], ...]:
    """The exceptions ``handle_tool_errors=flag`` turns into an error message."""
    if flag is False:
        return ()
    if isinstance(flag, type) and issubclass(flag, Exception):
        return (flag,)
    if isinstance(flag, tuple):
        return flag
    if callable(flag) and not isinstance(flag, type):
        return _annotated_types(flag)
    return (Exception,)


def _annotated_types(handler: Callable[..., str]) -> tuple[type[BaseException], ...]:
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


def error_text(flag: ErrorHandling, error: Exception) -> str:
    """The error message's text under ``handle_tool_errors=flag`` (a handler may raise)."""
    if isinstance(flag, str):
        return flag
    if callable(flag) and not isinstance(flag, type):
        return flag(error)
    return TOOL_CALL_ERROR_TEMPLATE.format(error=repr(error))


def error_message(text: str, call: Any) -> ToolMessage:
    return ToolMessage(text, name=call["name"], tool_call_id=call["id"], status="error")


def normalise(response: Any, name: str) -> Any:
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
        return [normalise(r, name) for r in response]
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
