"""``ToolNode`` and ``tools_condition``: the tool half of a ReAct agent.

Behaves like ``langgraph.prebuilt.ToolNode``: it reads the tool calls of the
latest AI message and answers each with a ``ToolMessage``, in tool-call order.
The calls run side by side on a graphpool worker pool (see ``_parallel``). Tools
may ask for the graph state, the store or a :class:`ToolRuntime`
(``_injection``), and ``wrap_tool_call`` / ``awrap_tool_call`` wrappers see each
call as a :class:`ToolCallRequest` with a function that executes it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

from .._lc import require

require("langchain_core.tools", "graphpool.prebuilt (ToolNode, tools_condition)")

from langchain_core.messages import AIMessage, ToolCall, ToolMessage  # noqa: E402
from langchain_core.tools import BaseTool  # noqa: E402
from langchain_core.tools import tool as as_tool  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from .._checks import check_positive_int  # noqa: E402
from .._context import CURRENT  # noqa: E402
from .._pool import WorkerPool, default_pool  # noqa: E402
from ..errors import InvalidConfigError, InvalidMessagesError, is_invalid_resume  # noqa: E402
from ..runtime import Runtime  # noqa: E402
from ..types import Command  # noqa: E402
from ._injection import (  # noqa: E402
    InjectedState,
    InjectedStore,
    ToolCallRequest,
    ToolRuntime,
    inject,
    injected_args,
)
from ._outcomes import (  # noqa: E402
    INVALID_TOOL_NAME_ERROR_TEMPLATE,
    TOOL_CALL_ERROR_TEMPLATE,
    ErrorHandling,
    ToolInvocationError,
    error_message,
    error_text,
    handled_types,
    normalise,
    only_bad_args,
)
from ._parallel import map_on_pool  # noqa: E402

__all__ = [
    "INVALID_TOOL_NAME_ERROR_TEMPLATE",
    "TOOL_CALL_ERROR_TEMPLATE",
    "AsyncToolCallWrapper",
    "InjectedState",
    "InjectedStore",
    "ToolCallRequest",
    "ToolCallWrapper",
    "ToolInvocationError",
    "ToolNode",
    "ToolRuntime",
    "tools_condition",
]

Outcome = Any  # a ToolMessage, a Command, or a list of those
ToolCallWrapper = Callable[[ToolCallRequest, Callable[[ToolCallRequest], Outcome]], Outcome]
"""``wrap_tool_call(request, execute)``: may change the request, call ``execute`` (any
number of times), or answer without it."""
AsyncToolCallWrapper = Callable[
    [ToolCallRequest, Callable[[ToolCallRequest], Awaitable[Outcome]]], Awaitable[Outcome]
]
"""The async form of :data:`ToolCallWrapper`."""


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
        wrap_tool_call: ``f(request, execute)`` around each call (see
            :data:`ToolCallWrapper`); an exception it raises is handled as
            ``handle_tool_errors`` says, as LangGraph's.
        awrap_tool_call: the async form. In a graph run, ``ToolNode`` runs on a
            worker thread: there ``wrap_tool_call`` is used if given, else
            ``awrap_tool_call`` (on graphpool's event loop). :meth:`ainvoke` uses
            ``awrap_tool_call`` first, as LangGraph's async path does.
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

    Raises:
        InvalidConfigError: a bad ``max_parallel``, a wrapper that is not callable,
            or an error handler annotated with something other than exceptions.
    """

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]],
        *,
        name: str = "tools",
        tags: Sequence[str] | None = None,
        handle_tool_errors: ErrorHandling = only_bad_args,
        messages_key: str = "messages",
        wrap_tool_call: ToolCallWrapper | None = None,
        awrap_tool_call: AsyncToolCallWrapper | None = None,
        pool: WorkerPool | None = None,
        max_parallel: int | None = None,
    ) -> None:
        if max_parallel is not None:
            max_parallel = check_positive_int(
                max_parallel, "ToolNode: max_parallel", InvalidConfigError
            )
        for option, wrapper in (
            ("wrap_tool_call", wrap_tool_call),
            ("awrap_tool_call", awrap_tool_call),
        ):
            if wrapper is not None and not callable(wrapper):
                raise InvalidConfigError(
                    f"ToolNode({option}={wrapper!r}): expected a function "
                    "f(request, execute) -> ToolMessage | Command."
                )
        self.name = name
        self.tags = list(tags or ())
        self.messages_key = messages_key
        self.pool = pool
        self.max_parallel = max_parallel
        self.wrap_tool_call = wrap_tool_call
        self.awrap_tool_call = awrap_tool_call
        self._handle = handle_tool_errors
        self._handled = handled_types(handle_tool_errors)
        self._tools: dict[str, BaseTool] = {}
        for item in tools:
            made = item if isinstance(item, BaseTool) else as_tool(item)
            self._tools[made.name] = made
        self._injected = {name: injected_args(tool) for name, tool in self._tools.items()}

    def __repr__(self) -> str:
        return f"ToolNode(name={self.name!r}, tools={list(self._tools)})"

    @property
    def tools_by_name(self) -> dict[str, BaseTool]:
        """The tools, by the name the model calls them with."""
        return dict(self._tools)

    # -- running ----------------------------------------------------------------

    def __call__(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """Run every tool call of the input; see the class docstring."""
        calls, shape = self._parse(input)
        config = self._config(config)
        runtimes = [self._runtime(input, call, config) for call in calls]
        limits = [n for n in (self.max_parallel, config.get("max_concurrency")) if n]
        outputs = map_on_pool(
            lambda i: self._run_one(calls[i], runtimes[i]),
            range(len(calls)),
            self.pool or default_pool(),
            min(limits) if limits else None,
        )
        return self._combine(outputs, shape)

    invoke = __call__

    async def ainvoke(self, input: Any, config: Mapping[str, Any] | None = None) -> Any:
        """:meth:`invoke` from async code: tools are awaited (``ainvoke``) on this loop,
        through ``awrap_tool_call`` (or ``wrap_tool_call``), at most ``max_parallel``
        at once."""
        calls, shape = self._parse(input)
        config = self._config(config)
        gate = asyncio.Semaphore(self.max_parallel or max(len(calls), 1))

        async def one(call: ToolCall) -> Any:
            async with gate:
                return await self._arun_one(call, self._runtime(input, call, config))

        return self._combine(list(await asyncio.gather(*map(one, calls))), shape)

    def _config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        config = dict(config or {})
        if self.tags:
            config["tags"] = [*(config.get("tags") or ()), *self.tags]
        return config

    def _runtime(self, input: Any, call: ToolCall, config: dict[str, Any]) -> ToolRuntime[Any, Any]:
        """The call's :class:`ToolRuntime`: the run's context, store and writer inside a
        graph run, none outside one."""
        task = CURRENT.get()
        run: Runtime[Any] = task.runtime if task is not None else Runtime()
        shaped = isinstance(input, list) and input and isinstance(input[-1], dict)
        state = input
        if shaped:  # a list of tool calls carries no state: the running graph's, if any
            read = getattr(task, "graph_state", None)
            state = read() if read is not None else {}
        return ToolRuntime(
            state=state,
            context=run.context,
            config=dict(config),
            stream_writer=run.stream_writer,
            tool_call_id=call["id"],
            store=run.store,
            tools=list(self._tools.values()),
            execution_info=run.execution_info,
            server_info=run.server_info,
        )

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

    # -- one call -----------------------------------------------------------------

    def _request(self, call: ToolCall, runtime: ToolRuntime[Any, Any]) -> ToolCallRequest:
        return ToolCallRequest(call, self._tools.get(call["name"]), runtime.state, runtime)

    def _run_one(self, call: ToolCall, runtime: ToolRuntime[Any, Any]) -> Outcome:
        request = self._request(call, runtime)
        try:
            if self.wrap_tool_call is not None:
                return self.wrap_tool_call(request, self._execute)
            if self.awrap_tool_call is not None:
                from .._pool._loop import run_coroutine

                return run_coroutine(self._awrapped(request))
        except Exception as exc:
            return self._wrapper_failed(exc, request)
        return self._execute(request)

    async def _arun_one(self, call: ToolCall, runtime: ToolRuntime[Any, Any]) -> Outcome:
        request = self._request(call, runtime)
        try:
            if self.awrap_tool_call is not None:
                return await self._awrapped(request)
            if self.wrap_tool_call is not None:
                return self.wrap_tool_call(request, self._execute)
        except Exception as exc:
            return self._wrapper_failed(exc, request)
        return await self._aexecute(request)

    async def _awrapped(self, request: ToolCallRequest) -> Outcome:
        assert self.awrap_tool_call is not None
        return await self.awrap_tool_call(request, self._aexecute)

    def _wrapper_failed(self, error: Exception, request: ToolCallRequest) -> Outcome:
        """A wrapper raised: as LangGraph, ``handle_tool_errors`` decides (a handler may
        raise it again); with ``False`` it is raised."""
        if self._handle is False or is_invalid_resume(error):
            raise error
        return error_message(error_text(self._handle, error), request.tool_call)

    def _prepare(
        self, request: ToolCallRequest
    ) -> tuple[BaseTool, dict[str, Any], dict[str, Any]] | ToolMessage:
        """The tool, its call with the injected arguments and its config; or the
        message answering a call of a tool this node does not have.

        Raises:
            InvalidConfigError: a wrapper's request names a tool of this node but
                carries none (``override(tool=None)``).
        """
        call, tool = request.tool_call, request.tool
        if tool is None:
            if call["name"] in self._tools:
                raise InvalidConfigError(
                    f"ToolNode {self.name!r}: the request for tool {call['name']!r} carries "
                    "no tool (a wrapper made it with tool=None)."
                )
            known = ", ".join(self._tools)
            text = INVALID_TOOL_NAME_ERROR_TEMPLATE.format(
                requested_tool=call["name"], available_tools=known
            )
            return error_message(text, call)
        if tool is self._tools.get(call["name"]):
            wanted = self._injected[call["name"]]
        else:  # a tool a wrapper put in the request
            wanted = injected_args(tool)
        runtime = request.runtime or self._runtime(request.state, call, {})
        injected = inject(call, wanted, runtime, self.messages_key)
        return tool, {**injected, "type": "tool_call"}, dict(runtime.config)

    def _execute(self, request: ToolCallRequest) -> Outcome:
        """Run one call (the ``execute`` a wrapper gets: it may be called again)."""
        prepared = self._prepare(request)
        if isinstance(prepared, ToolMessage):
            return prepared
        tool, call, config = prepared
        try:
            try:
                response = _invoke(tool, call, config)
            except ValidationError as exc:
                if is_invalid_resume(exc):  # a human's answer, not the model's arguments
                    raise
                raise self._bad_args(exc, request) from exc
            return normalise(response, tool.name)
        except Exception as exc:
            return self._failed(exc, request)

    async def _aexecute(self, request: ToolCallRequest) -> Outcome:
        """The async ``execute``: the tool's ``ainvoke`` on the running loop."""
        prepared = self._prepare(request)
        if isinstance(prepared, ToolMessage):
            return prepared
        tool, call, config = prepared
        try:
            try:
                response = await tool.ainvoke(call, config)  # type: ignore[arg-type]
            except ValidationError as exc:
                if is_invalid_resume(exc):  # a human's answer, not the model's arguments
                    raise
                raise self._bad_args(exc, request) from exc
            return normalise(response, tool.name)
        except Exception as exc:
            return self._failed(exc, request)

    def _bad_args(self, error: ValidationError, request: ToolCallRequest) -> ToolInvocationError:
        call = request.tool_call
        injected = self._injected.get(call["name"])
        return ToolInvocationError(call["name"], error, call["args"], injected)

    def _failed(self, error: Exception, request: ToolCallRequest) -> Outcome:
        if not isinstance(error, self._handled) or is_invalid_resume(error):
            raise error
        return error_message(error_text(self._handle, error), request.tool_call)

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
