"""The task a node is running in, as code inside the node sees it.

The dispatcher sets :data:`CURRENT` just before it calls a node (in the node's
thread or coroutine), so :func:`graphpool.types.interrupt` finds the task that
is asking. This module sits at the bottom of the package and imports nothing
from it: the public ``types`` module reaches the running task without pulling
in the runtime.
"""

from __future__ import annotations

import contextvars
from typing import Any, Protocol

__all__ = ["CURRENT", "RunningTask", "current_task"]


class RunningTask(Protocol):
    """What a node's code may ask of the task running it."""

    def interrupt(self, value: Any, schema: Any, validate: Any) -> Any:
        """The answer to this call's ``interrupt(value)``; raises GraphInterrupt to pause.

        ``schema`` goes on the Interrupt; ``validate`` (or None) checks an answer
        before it is kept, and gives what the call returns."""
        ...

    @property
    def runtime(self) -> Any:
        """The run's :class:`~graphpool.runtime.Runtime`."""
        ...

    @property
    def config(self) -> Any:
        """The config the node received."""
        ...


CURRENT: contextvars.ContextVar[RunningTask | None] = contextvars.ContextVar(
    "graphpool_current_task", default=None
)


def current_task(asked_by: str) -> RunningTask:
    """The running task, or NotInNodeError naming what asked."""
    task = CURRENT.get()
    if task is None:
        from .errors import NotInNodeError

        raise NotInNodeError(f"{asked_by} can only be called inside a node of a running graph.")
    return task
