"""What the core's helper modules may see of a run: a structural type.

``records``, ``pausing`` and ``interrupts`` work on a run's state without
importing :class:`~graphpool._core.run.Run` (which imports them), so the
core's modules point one way only.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol

from .._topology import Topology
from ..checkpoint._records import TaskResult
from .collector import Collector
from .events import Event
from .task import Task

__all__ = ["RunView"]


class RunView(Protocol):
    topology: Topology
    state: Collector
    modes: frozenset[str]
    step: int
    checkpoint_id: str
    start: tuple[Any, ...]
    durable: bool
    fresh: bool
    answers: dict[str, list[Any]]
    reuse: Mapping[str, TaskResult]
    resume_by_id: Mapping[str, Any]
    unaddressed: list[Any]
    new_checkpoint_id: Callable[[], str]

    def new_task_id(self) -> str: ...

    def values(self, interrupts: Any = None) -> Generator[Event, Any, None]: ...

    def task_event(self, task: Task, *, start: bool) -> Generator[Event, Any, None]: ...
