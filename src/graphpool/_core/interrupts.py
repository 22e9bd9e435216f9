"""``interrupt()``: how a node pauses its run, and gets its answer when resumed.

The dispatcher puts an :class:`Asking` into ``_context.CURRENT`` before calling
a node, so ``interrupt()`` finds its task in the node's thread or coroutine.
Answers a task already consumed are kept by the run, by task id (saved with the
thread when the task pauses, so a resumed task replays them in order); new
answers come from ``Command(resume=...)``: by interrupt id, or a single value
that the first unanswered ``interrupt()`` takes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import GraphInterrupt
from ..types import Interrupt
from .task import Task

if TYPE_CHECKING:
    from .view import RunView

__all__ = ["Asking", "interrupt_id"]

_MISSING = object()


def interrupt_id(task_id: str, index: int) -> str:
    """The id of a task's ``index``-th interrupt: stable across resumes, 32 hex digits."""
    return hashlib.blake2b(f"{task_id}|{index}".encode(), digest_size=16).hexdigest()


class Asking:
    """One attempt of one task, answering its node's ``interrupt()`` calls in order."""

    __slots__ = ("calls", "run", "task")

    def __init__(self, run: RunView, task: Task) -> None:
        self.run, self.task, self.calls = run, task, 0

    def interrupt(
        self, value: Any, schema: Any = None, validate: Callable[[Any], Any] | None = None
    ) -> Any:
        """The answer to this attempt's next ``interrupt(value)``, checked by
        ``validate`` (an answer that fails it is not kept); or GraphInterrupt."""
        index = self.calls
        self.calls += 1
        found, ident = self._answer(index, validate)
        asked = Interrupt(value, ident, response_schema=schema)
        if found is not _MISSING:
            return found
        raise GraphInterrupt((asked,))

    def _answer(self, index: int, validate: Callable[[Any], Any] | None) -> tuple[Any, str]:
        """The answer to the ``index``-th ``interrupt()`` (or _MISSING), and its id."""
        run, task = self.run, self.task
        if not task.id:  # a run without a checkpointer names its tasks only when asked
            task.id = run.new_task_id()
        answers = run.answers.setdefault(task.id, [])
        ident = interrupt_id(task.id, index)
        if index < len(answers):
            answer = answers[index]
            return (answer if validate is None else validate(answer)), ident
        value = run.resume_by_id.get(ident, _MISSING)
        if value is _MISSING and run.unaddressed:
            try:
                value = run.unaddressed.pop()
            except IndexError:  # another task took it first
                value = _MISSING
        if value is _MISSING:
            return value, ident
        checked = value if validate is None else validate(value)  # raises before keeping
        answers.append(value)
        return checked, ident
