"""``Runtime``: what a node may use besides its state, as in ``langgraph.runtime``.

A node (or a route) that has a parameter named ``runtime`` gets the run's
:class:`Runtime`: the ``context`` given to ``invoke(..., context=...)`` (shaped
by ``StateGraph(..., context_schema=...)``), the graph's ``store``, and a
``stream_writer`` whose chunks the caller receives with ``stream_mode="custom"``.
Parameters named ``writer`` and ``store`` get those two directly.
:func:`get_runtime` returns it from anywhere inside a running node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._context import current_task

__all__ = [
    "DEFAULT_RUNTIME",
    "ExecutionInfo",
    "RunControl",
    "Runtime",
    "ServerInfo",
    "get_runtime",
]

ContextT = TypeVar("ContextT")


def _no_writer(chunk: Any) -> None:
    """The stream writer of a run that does not stream ``custom`` chunks."""


def _no_heartbeat() -> None:
    """The heartbeat of a node without an idle timeout."""


@dataclasses.dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """Where the running attempt of a node is, as LangGraph's ``ExecutionInfo``.

    Attributes:
        checkpoint_id: the checkpoint the step started from ("" without a checkpointer).
        checkpoint_ns: the task's namespace, ``"node:task_id"``.
        task_id: the task's id.
        thread_id: the thread's id (None without a checkpointer).
        run_id: the ``run_id`` of the call's config, or None.
        node_attempt: this attempt's number, from 1.
        node_first_attempt_time: when the first attempt started (Unix seconds).
    """

    checkpoint_id: str
    checkpoint_ns: str
    task_id: str
    thread_id: str | None = None
    run_id: str | None = None
    node_attempt: int = 1
    node_first_attempt_time: float | None = None

    def patch(self, **overrides: Any) -> ExecutionInfo:
        """A copy with ``overrides`` applied."""
        return dataclasses.replace(self, **overrides)


@dataclasses.dataclass(frozen=True, slots=True)
class ServerInfo:
    """The LangGraph Server deployment a run belongs to: built from the config's
    ``configurable`` ``assistant_id`` and ``graph_id`` (and ``langgraph_auth_user``)."""

    assistant_id: str
    graph_id: str
    user: Any = None


class RunControl:
    """Asks a run to stop cleanly between steps (``invoke(..., control=...)``).

    ``request_drain(reason)`` may be called from any thread; the request is one
    attribute write. One control serves one run: once drained it stays drained.
    """

    __slots__ = ("_drain_reason",)

    def __init__(self) -> None:
        self._drain_reason: str | None = None

    def __repr__(self) -> str:
        return f"RunControl(drain_reason={self._drain_reason!r})"

    def request_drain(self, reason: str = "shutdown") -> None:
        """Ask the run to stop before its next step."""
        self._drain_reason = reason

    @property
    def drain_requested(self) -> bool:
        return self._drain_reason is not None

    @property
    def drain_reason(self) -> str | None:
        return self._drain_reason


@dataclasses.dataclass(frozen=True)
class Runtime(Generic[ContextT]):
    """Run-scoped things a node may use.

    Attributes:
        context: what the caller passed as ``context=`` (None if nothing).
        store: the graph's store (``compile(store=...)``), or None.
        stream_writer: ``writer(chunk)`` sends ``chunk`` to ``stream_mode="custom"``.
        heartbeat: call it to show the node is making progress.
        previous: the entrypoint's previous return value (functional API), or None.
        execution_info: the running attempt's :class:`ExecutionInfo` (inside a node).
        server_info: the :class:`ServerInfo` of a LangGraph Server run, else None.
        control: the run's :class:`RunControl`, if the caller gave one.
    """

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_writer
    heartbeat: Callable[[], None] = _no_heartbeat
    previous: Any = None
    execution_info: ExecutionInfo | None = None
    server_info: ServerInfo | None = None
    control: RunControl | None = None

    def override(self, **changes: Any) -> Runtime[ContextT]:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    def merge(self, other: Runtime[ContextT]) -> Runtime[ContextT]:
        """``other``, with this runtime's values where ``other`` has none."""
        return Runtime(
            context=other.context or self.context,
            store=other.store or self.store,
            stream_writer=self.stream_writer
            if other.stream_writer is _no_writer
            else other.stream_writer,
            heartbeat=self.heartbeat if other.heartbeat is _no_heartbeat else other.heartbeat,
            previous=self.previous if other.previous is None else other.previous,
            execution_info=other.execution_info or self.execution_info,
            server_info=other.server_info or self.server_info,
            control=other.control or self.control,
        )

    def patch_execution_info(self, **overrides: Any) -> Runtime[ContextT]:
        """A copy whose ``execution_info`` has ``overrides`` applied.

        Raises:
            NotInNodeError: this runtime has no execution info yet (outside a node).
        """
        if self.execution_info is None:
            from .errors import NotInNodeError

            raise NotInNodeError("Cannot patch execution_info before it has been set.")
        return dataclasses.replace(self, execution_info=self.execution_info.patch(**overrides))

    @property
    def drain_requested(self) -> bool:
        """Whether the run's :class:`RunControl` asked it to stop."""
        return self.control.drain_requested if self.control is not None else False

    @property
    def drain_reason(self) -> str | None:
        return self.control.drain_reason if self.control is not None else None


DEFAULT_RUNTIME: Runtime[Any] = Runtime()
"""A runtime with nothing set (what a node sees outside any run)."""


def coerce_context(schema: Any, context: Any) -> Any:
    """``context`` as nodes see it: a dict given for a dataclass or pydantic
    ``context_schema`` becomes an instance (its errors, a ``TypeError`` or a
    ``pydantic.ValidationError``, go to the caller), as LangGraph does."""
    if not isinstance(context, dict) or not isinstance(schema, type):
        return context
    if dataclasses.is_dataclass(schema) or hasattr(schema, "model_validate"):
        return schema(**context)
    return context


def server_info(configurable: dict[str, Any]) -> ServerInfo | None:
    """The :class:`ServerInfo` a config's ``configurable`` describes, or None."""
    assistant, graph = configurable.get("assistant_id"), configurable.get("graph_id")
    user = configurable.get("langgraph_auth_user")
    if user is not None and not hasattr(user, "identity"):
        user = None  # not an authenticated user (LangGraph's BaseUser has an identity)
    if assistant is None and graph is None and user is None:
        return None
    return ServerInfo(str(assistant or ""), str(graph or ""), user)


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The :class:`Runtime` of the node that is running.

    Raises:
        NotInNodeError: called outside a running node.
    """
    return current_task("get_runtime()").runtime
