"""What ``ToolNode`` gives a tool besides the model's arguments, as LangGraph's does.

A tool declares what it wants with annotations the model never sees (langchain-core
leaves ``InjectedToolArg`` arguments out of the tool's schema):

* ``Annotated[T, InjectedState]``: the graph state the ``ToolNode`` received, or
  one key of it with ``InjectedState("key")``;
* ``Annotated[T, InjectedStore()]``: the graph's store (``compile(store=...)``);
* a parameter named ``runtime`` (or annotated :class:`ToolRuntime`): a
  :class:`ToolRuntime` with the state, the call's id and config, the run's
  context, store and stream writer, and the node's tools.

What a tool wants is read once per tool (:func:`injected_args`); :func:`inject`
puts the values in a call's arguments just before the tool runs, replacing any
value the model gave for them. A :class:`ToolCallRequest` is one call with its
runtime, as the ``wrap_tool_call`` wrappers of ``ToolNode`` see it.
"""

from __future__ import annotations

import dataclasses
import typing
import warnings
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, TypeVar, Union

from .._lc import require

require("langchain_core.tools", "graphpool.prebuilt (ToolNode)")

from langchain_core.messages import ToolCall  # noqa: E402
from langchain_core.tools import BaseTool, InjectedToolArg  # noqa: E402
from langchain_core.tools.base import (  # noqa: E402
    _DirectlyInjectedToolArg,
    _is_injected_arg_type,
    get_all_basemodel_annotations,
)

from ..errors import InvalidConfigError, InvalidMessagesError, MissingStateKeyError  # noqa: E402

__all__ = [
    "InjectedArgs",
    "InjectedState",
    "InjectedStore",
    "ToolCallRequest",
    "ToolRuntime",
    "inject",
    "injected_args",
]

ContextT = TypeVar("ContextT")
StateT = TypeVar("StateT")


class InjectedState(InjectedToolArg):
    """``Annotated[T, InjectedState]``: ``ToolNode`` passes the graph state (the whole
    state, or the value of ``field`` with ``InjectedState("field")``)."""

    def __init__(self, field: str | None = None) -> None:
        self.field = field


class InjectedStore(InjectedToolArg):
    """``Annotated[T, InjectedStore()]``: ``ToolNode`` passes the graph's store.

    ``ToolNode`` raises ``InvalidConfigError`` if the graph has none.
    """


@dataclasses.dataclass
class ToolRuntime(_DirectlyInjectedToolArg, Generic[ContextT, StateT]):
    """What a tool with a ``runtime`` parameter gets from ``ToolNode``.

    Attributes:
        state: the graph state the ``ToolNode`` received.
        context: the run's ``context`` (``invoke(..., context=...)``).
        config: the config of this tool call.
        stream_writer: sends a chunk to ``stream_mode="custom"``.
        tool_call_id: the id of the call being answered.
        store: the graph's store, or None.
        tools: every tool of the ``ToolNode``.
        execution_info, server_info: the running node's (see ``graphpool.runtime``);
            None outside a graph run.
    """

    state: StateT
    context: ContextT
    config: Mapping[str, Any]
    stream_writer: Callable[[Any], None]
    tool_call_id: str | None
    store: Any
    tools: list[BaseTool] = dataclasses.field(default_factory=list)
    execution_info: Any = None
    server_info: Any = None

    def emit_output_delta(self, delta: Any) -> None:
        """Send ``delta`` (partial output) on ``stream_mode="tools"`` as this call's
        ``tool-output-delta`` event; nothing when the run does not stream ``tools``."""
        from .._stream_tools import emit_output_delta

        emit_output_delta(delta)


@dataclasses.dataclass(frozen=True)
class InjectedArgs:
    """The arguments of one tool that ``ToolNode`` fills in.

    Attributes:
        state: argument name -> state key (None: the whole state).
        store: the argument that gets the store, if any.
        runtime: the argument that gets the :class:`ToolRuntime`, if any.
        hidden: every argument the model may not set (all injected ones).
        optional: state arguments with a default, left out when the key is missing.
    """

    state: Mapping[str, str | None]
    store: str | None
    runtime: str | None
    hidden: frozenset[str]
    optional: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.state or self.store or self.runtime or self.hidden)


def _marks(annotation: Any, kind: type) -> list[Any]:
    """The ``kind`` markers in an annotation (through ``Annotated`` and unions)."""
    if isinstance(annotation, kind) or (
        isinstance(annotation, type) and issubclass(annotation, kind)
    ):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is Annotated or origin is Union:
        return [m for arg in typing.get_args(annotation) for m in _marks(arg, kind)]
    if isinstance(origin, type) and issubclass(origin, kind):  # ToolRuntime[Ctx, State]
        return [origin]
    return []


def injected_args(tool: BaseTool) -> InjectedArgs:
    """Read what ``tool`` wants injected, from its schema and its function's hints.

    Raises:
        InvalidConfigError: an argument is marked ``InjectedState`` more than once.
    """
    schema = tool.get_input_schema()
    hints: dict[str, Any] = {}
    func = getattr(tool, "func", None) or getattr(tool, "coroutine", None)
    if func is not None:
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception:  # unresolvable hints: the schema's annotations still tell
            hints = {}
    hints.update(get_all_basemodel_annotations(schema))
    fields = getattr(schema, "model_fields", {})
    state: dict[str, str | None] = {}
    store = runtime = None
    hidden, optional = set(), set()
    for name, annotation in hints.items():
        if name == "return":
            continue
        if _is_injected_arg_type(annotation):
            hidden.add(name)
        if name == "runtime" or _marks(annotation, ToolRuntime):
            runtime = name
        if _marks(annotation, InjectedStore):
            store = name
        marks = _marks(annotation, InjectedState)
        if len(marks) > 1:
            raise InvalidConfigError(
                f"Tool {tool.name!r}: argument {name!r} is marked InjectedState more than once."
            )
        if marks:
            field = marks[0].field if isinstance(marks[0], InjectedState) else None
            state[name] = field
            if field and name in fields and not fields[name].is_required():
                optional.add(name)
    hidden.update(state)
    hidden.update(n for n in (store, runtime) if n)  # names, not their letters
    return InjectedArgs(state, store, runtime, frozenset(hidden), frozenset(optional))


def inject(
    call: ToolCall, wanted: InjectedArgs, runtime: ToolRuntime[Any, Any], messages_key: str
) -> ToolCall:
    """``call`` with the injected arguments set (and any the model gave for them dropped).

    Raises:
        InvalidMessagesError: a tool wants state keys, but the state is a list of messages.
        MissingStateKeyError: the state lacks a key a tool wants (and it has no
            default); a ``KeyError``.
        InvalidConfigError: a tool wants the store, and the graph has none.
    """
    if not wanted:
        return call
    values: dict[str, Any] = {}
    if wanted.state:
        values.update(_state_values(call, wanted, runtime.state, messages_key))
    if wanted.store:
        if runtime.store is None:
            raise InvalidConfigError(
                f"Tool {call['name']!r} wants the store (InjectedStore), but the graph has "
                "none: Cannot inject store into tools with InjectedStore annotations - "
                "please compile your graph with a store (compile(store=...))."
            )
        values[wanted.store] = runtime.store
    if wanted.runtime:
        values[wanted.runtime] = runtime
    kept = {k: v for k, v in call["args"].items() if k not in wanted.hidden}
    return {**call, "args": {**kept, **values}}


def _state_values(
    call: ToolCall, wanted: InjectedArgs, state: Any, messages_key: str
) -> dict[str, Any]:
    if isinstance(state, list):
        keys = list(wanted.state.values())
        if keys[0] is None or keys == [messages_key]:
            state = {messages_key: state}
        else:
            raise InvalidMessagesError(
                f"Invalid input to ToolNode. Tool {call['name']!r} requires graph state dict "
                f"as input (it reads the state keys {[k for k in keys if k]}), but ToolNode "
                "was given a list of messages."
            )
    out = {}
    for arg, key in wanted.state.items():
        if key is None:
            out[arg] = state
        elif isinstance(state, Mapping) and key in state:
            out[arg] = state[key]
        elif not isinstance(state, Mapping) and hasattr(state, key):
            out[arg] = getattr(state, key)
        elif arg not in wanted.optional:
            raise MissingStateKeyError(
                f"Tool {call['name']!r} wants state key {key!r} (argument {arg!r}, "
                f"InjectedState({key!r})), which the state ToolNode received does not have."
            )
    return out


@dataclasses.dataclass
class ToolCallRequest:
    """One tool call, as a ``wrap_tool_call`` / ``awrap_tool_call`` wrapper sees it.

    Attributes:
        tool_call: the call (``name``, ``args``, ``id``) as the model made it.
        tool: the tool it names, or None if the ``ToolNode`` has none of that name
            (a wrapper may answer such a call itself; executing it gives the
            unknown-tool error message).
        state: the graph state the ``ToolNode`` received.
        runtime: the call's :class:`ToolRuntime` (None when made by hand).

    Make a changed request with :meth:`override`; setting an attribute works but
    warns (``DeprecationWarning``), as in LangGraph.
    """

    tool_call: ToolCall
    tool: BaseTool | None
    state: Any
    runtime: ToolRuntime[Any, Any] | None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__dict__:
            warnings.warn(
                f"Setting attribute {name!r} on ToolCallRequest is deprecated; use the "
                "override() method instead, which returns a new request.",
                DeprecationWarning,
                stacklevel=2,
            )
        object.__setattr__(self, name, value)

    def override(self, **changes: Any) -> ToolCallRequest:
        """A new request with ``changes`` (``tool_call``, ``tool``, ``state``); a new
        ``state`` is also the new runtime's state."""
        request = dataclasses.replace(self, **changes)
        if "state" in changes and isinstance(request.runtime, ToolRuntime):
            fresh = dataclasses.replace(request.runtime, state=request.state)
            object.__setattr__(request, "runtime", fresh)
        return request
