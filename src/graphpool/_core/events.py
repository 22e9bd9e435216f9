"""What the run state machine tells its driver, and what the driver answers.

The core (``_core.run.Run.loop``) is a generator: it yields one event at a time
and is sent the driver's answer. Every event is a small record::

    Launch(task, alone)   start one attempt of ``task``; answer None, or its
                          Outcome if the driver ran it to the end at once
    Wait(timeout)         block until launched attempts finish (or ``timeout``
                          seconds pass, when a retry or a deadline is due);
                          answer the list of Outcomes that arrived (maybe empty)
    Wait(delay, True)     nothing is in flight but one retry: sleep out its
                          backoff (``time.sleep`` / ``asyncio.sleep``); answer []
    Emit(mode, chunk)     hand a stream chunk to the caller
    Save(record, source)  persist a Checkpoint or a TaskResult (durable runs only)
    Abandon(task)         stop waiting for an attempt that ran past its timeout,
                          and stop it as well as its runner can
    Observed(...)         tell observers and pool metrics about a step or an attempt

Nothing here runs code, reads a clock or touches a thread.

One shortcut bypasses ``Launch``: a driver may give ``Run.loop`` an ``alone``
function, which the core calls with a step's lone task (only when it would
launch it with ``alone=True``); it answers the task's Outcome if it ran the node
at once in the caller's thread, or None, and then the ``Launch`` goes out as
usual. A chain of plain nodes then costs no event per step.

The records are slotted and not frozen (a frozen dataclass's ``__init__`` goes
through ``object.__setattr__``, twice the cost of a plain one, on the hot path of
every step); nobody changes one after it is made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..checkpoint._records import Checkpoint, TaskResult
    from .task import Task

__all__ = [
    "Abandon",
    "Emit",
    "Event",
    "Launch",
    "Observed",
    "Outcome",
    "Save",
    "TaskEnd",
    "Wait",
]

TaskEnd = Literal["succeeded", "retried", "failed"]


class Outcome:
    """How one attempt ended: what its body returned ``(output, writes, routes)``,
    or the error it raised; ``ended``: the run clock's time when it ended, for an
    attempt run away from the driver (None for one the driver ran itself)."""

    __slots__ = ("ended", "error", "result", "task")

    def __init__(
        self, task: Task, result: Any, error: BaseException | None, ended: float | None = None
    ) -> None:
        self.task = task
        self.result = result
        self.error = error
        self.ended = ended

    def __repr__(self) -> str:
        return f"Outcome({self.task!r}, {self.result!r}, {self.error!r})"


@dataclasses.dataclass(slots=True)
class Launch:
    task: Task
    alone: bool  # the only attempt in flight and no deadline: may run inline


@dataclasses.dataclass(slots=True)
class Wait:
    timeout: float | None  # seconds; None: until something finishes
    backoff: bool = False  # only a retry's backoff is left: the retry runs after it


@dataclasses.dataclass(slots=True)
class Emit:
    mode: str
    chunk: Any


@dataclasses.dataclass(slots=True)
class Save:
    record: Checkpoint | TaskResult
    source: str  # "input", "loop" or "task"


@dataclasses.dataclass(slots=True)
class Abandon:
    task: Task


@dataclasses.dataclass(slots=True)
class Observed:
    """A step began (``tasks``), an attempt started (``task``), or one ended (``end``)."""

    step: int
    tasks: Sequence[Task] = ()
    task: Task | None = None
    end: TaskEnd | None = None


Event = Launch | Wait | Emit | Save | Abandon | Observed
