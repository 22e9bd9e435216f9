"""A task: one execution of one node in one superstep, with named states.

Every state change goes through a method here, so a task's life reads in one place::

    PENDING --start--> RUNNING --succeed--> SUCCEEDED
                          |  \\--fail--> FAILED
                          \\--retry_later--> WAITING_RETRY --start--> RUNNING ...
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from ..errors import InternalError

__all__ = ["Task", "TaskState"]


class TaskState(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING_RETRY = "waiting_retry"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# The states as plain names: looking a member up on an Enum class goes through
# a descriptor (about 80 ns, a tenth of a chain step), a global is a dict read.
PENDING = TaskState.PENDING
RUNNING = TaskState.RUNNING
WAITING_RETRY = TaskState.WAITING_RETRY
SUCCEEDED = TaskState.SUCCEEDED
FAILED = TaskState.FAILED

_NEXT: dict[str, tuple[TaskState, ...]] = {
    "start": (PENDING, WAITING_RETRY),
    "succeed": (RUNNING,),
    "fail": (RUNNING,),
    "retry_later": (FAILED,),
}


class Task:
    """One node execution.

    Attributes:
        step: the superstep it belongs to.
        node: the node's name.
        order: its place in the step's deterministic write order: pull tasks
            (triggered by edges) by node name, then pushed tasks (``Send``) in
            the order they were sent, as LangGraph applies them.
        triggers: what triggered it (LangGraph's channel names, for streams).
        input: what the node receives: the state (shaped by the node's input
            schema) for a task triggered by edges, the packet for a ``Send`` task,
            the caller's input for the START task.
        writes: ``(key, value)`` state writes, once it succeeded.
        routes: node names and ``Send`` packets it routed to, once it succeeded.
        pushed: writes its node made while it ran (``push_message``), which come
            before those of its return value; None if none.
    """

    # Defaults of the attributes most tasks never change, on the class: a task
    # is made for every node execution, and setting 20 attributes per task was
    # a tenth of a chain step's cost.
    id = ""
    state = PENDING
    attempt = 1
    cached = False  # its result came from the node's cache (updates say so)
    output: Any = None
    error: BaseException | None = None
    writes: Sequence[tuple[str, Any]] = ()  # set by succeed()
    routes: Sequence[Any] = ()
    handle: Any = None  # a runner's handle on a remote call (process, Ray)
    started = 0  # logical time it (last) started, for eager scheduling
    view: dict[str, Any] | None = None  # channels as it started (eager)
    worker = ""  # where the current attempt ran, and when (wall clock): set by the
    started_at = 0.0  # dispatcher, for traces
    ended_at = 0.0
    first_started = 0.0  # wall clock of the first attempt (ExecutionInfo)
    failure: Any = None  # an error handler's task: the NodeError it handles
    limits: Any = None  # a Send's own (cap, idle) limits instead of the node's
    beat = 0.0  # the run clock's time of the attempt's last sign of progress
    pushed: list[tuple[str, Any]] | None = None  # writes made while it ran (push_message)

    def __init__(
        self,
        step: int,
        node: str,
        order: tuple[int, Any],
        triggers: tuple[str, ...],
        input: Any,
    ) -> None:
        self.step = step
        self.node = node
        self.order = order
        self.triggers = triggers
        self.input = input
        # read on every attempt: as instance values their reads are specialized
        # (a class default read through an instance is a generic lookup in 3.11)
        self.attempt = 1
        self.first_started = 0.0
        self.pushed = None

    def __repr__(self) -> str:
        return (
            f"<Task {self.node!r} step={self.step} attempt={self.attempt} state={self.state.value}>"
        )

    def _move(self, event: str, to: TaskState) -> None:
        if self.state not in _NEXT[event]:
            raise InternalError(f"{self!r}: cannot {event} from state {self.state.value}")
        self.state = to

    def start(self) -> None:
        if self.state is PENDING:  # the usual move, checked without a call
            self.state = RUNNING
        else:
            self._move("start", RUNNING)

    def succeed(self, output: Any, writes: list[tuple[str, Any]], routes: list[Any]) -> None:
        if self.state is RUNNING:
            self.state = SUCCEEDED
        else:
            self._move("succeed", SUCCEEDED)
        self.output, self.writes, self.routes = output, writes, routes

    def fail(self, error: BaseException) -> None:
        self._move("fail", FAILED)
        self.error = error

    def retry_later(self) -> None:
        self._move("retry_later", WAITING_RETRY)
        self.attempt += 1
        self.error = None
        self.pushed = None
