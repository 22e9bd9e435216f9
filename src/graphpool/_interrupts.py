"""What ``interrupt()`` needs to know about the task it is called in.

A node's task gets a :class:`Scratch` for each attempt: the answers it already
received (saved with the thread, so a resumed task replays them in order), the
resume values the caller passed, and a counter of ``interrupt()`` calls. The
scheduler sets it in a context variable just before calling the node, so
``interrupt()`` finds it in the node's thread or coroutine.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Mapping
from typing import Any

from ._channels import MISSING

__all__ = ["CURRENT", "Scratch", "interrupt_id"]


def interrupt_id(task_id: str, index: int) -> str:
    """The id of a task's ``index``-th interrupt: stable across resumes, 32 hex digits."""
    return hashlib.blake2b(f"{task_id}|{index}".encode(), digest_size=16).hexdigest()


class Scratch:
    """One attempt of one task, as seen by ``interrupt()``.

    Attributes:
        task_id: the task's id (stable for the step, so interrupt ids are too).
        answers: resume values this task already consumed, in call order; shared
            with the run, which saves them when the task interrupts again.
        by_id: ``Command(resume={interrupt_id: value})`` answers.
        unaddressed: a one-item list holding a ``Command(resume=value)`` that
            names no interrupt; the first ``interrupt()`` without an answer takes it.
    """

    __slots__ = ("answers", "by_id", "calls", "task_id", "unaddressed")

    def __init__(
        self,
        task_id: str,
        answers: list[Any],
        by_id: Mapping[str, Any],
        unaddressed: list[Any],
    ) -> None:
        self.task_id = task_id
        self.answers = answers
        self.by_id = by_id
        self.unaddressed = unaddressed
        self.calls = 0

    def answer(self, index: int) -> Any:
        """The resume value for this task's ``index``-th interrupt, or MISSING."""
        if index < len(self.answers):
            return self.answers[index]
        value = self.by_id.get(interrupt_id(self.task_id, index), MISSING)
        if value is MISSING and self.unaddressed:
            try:
                value = self.unaddressed.pop()
            except IndexError:  # another task took it first
                value = MISSING
        if value is not MISSING:
            self.answers.append(value)
        return value


CURRENT: contextvars.ContextVar[Scratch | None] = contextvars.ContextVar(
    "graphpool_interrupt_scratch", default=None
)
