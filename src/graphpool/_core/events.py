"""What the run state machine tells its driver, and what the driver answers.

The core (``_core.run.Run.loop``) is a generator: it yields one event at a time
and is sent the driver's answer. Every event is a small frozen record::

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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

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


class Outcome(NamedTuple):
    """How one attempt ended: what its body returned ``(output, writes, routes)``,
    or the error it raised."""

    task: Task
    result: Any
    error: BaseException | None


@dataclasses.dataclass(frozen=True, slots=True)
class Launch:
    task: Task
    alone: bool  # the only attempt in flight and no deadline: may run inline


@dataclasses.dataclass(frozen=True, slots=True)
class Wait:
    timeout: float | None  # seconds; None: until something finishes
    backoff: bool = False  # only a retry's backoff is left: the retry runs after it


@dataclasses.dataclass(frozen=True, slots=True)
class Emit:
    mode: str
    chunk: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Save:
    record: Checkpoint | TaskResult
    source: str  # "input", "loop" or "task"


@dataclasses.dataclass(frozen=True, slots=True)
class Abandon:
    task: Task


@dataclasses.dataclass(frozen=True, slots=True)
class Observed:
    """A step began (``tasks``), an attempt started (``task``), or one ended (``end``)."""

    step: int
    tasks: Sequence[Task] = ()
    task: Task | None = None
    end: TaskEnd | None = None


Event = Launch | Wait | Emit | Save | Abandon | Observed
