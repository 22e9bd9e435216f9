"""``interrupt()``: how a node pauses its run, and gets its answer when resumed.

The scheduler sets :data:`CURRENT` to ``(run, task, [calls])`` just before
calling a node, so ``interrupt()`` finds its task in the node's thread or
coroutine. Answers a task already consumed are kept by the run, by task id
(saved with the thread when the task pauses, so a resumed task replays them in
order); new answers come from ``Command(resume=...)``: by interrupt id, or a
single value that the first unanswered ``interrupt()`` takes.
"""

from __future__ import annotations

import contextvars
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

from ._channels import MISSING
from ._task import Task

if TYPE_CHECKING:
    from ._scheduler import Run

__all__ = ["CURRENT", "answer", "interrupt_id"]

CURRENT: contextvars.ContextVar[tuple[Run, Task, list[int]] | None] = contextvars.ContextVar(
    "graphpool_current_task", default=None
)


def interrupt_id(task_id: str, index: int) -> str:
    """The id of a task's ``index``-th interrupt: stable across resumes, 32 hex digits."""
    return hashlib.blake2b(f"{task_id}|{index}".encode(), digest_size=16).hexdigest()


def answer(run: Run, task: Task, index: int) -> tuple[Any, str]:
    """The answer to the task's ``index``-th ``interrupt()`` (or MISSING), and its id."""
    if not task.id:  # a run without a checkpointer names its tasks only when asked
        task.id = str(uuid.uuid4())
    answers = run.answers.setdefault(task.id, [])
    ident = interrupt_id(task.id, index)
    if index < len(answers):
        return answers[index], ident
    value = run.resume_by_id.get(ident, MISSING)
    if value is MISSING and run.unaddressed:
        try:
            value = run.unaddressed.pop()
        except IndexError:  # another task took it first
            value = MISSING
    if value is not MISSING:
        answers.append(value)
    return value, ident
