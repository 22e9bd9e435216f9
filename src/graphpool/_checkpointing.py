"""Connects one run to its checkpointer: load the thread, hold it, save as the run goes.

:func:`open_thread` prepares a :class:`~graphpool._scheduler.Run` before its loop
starts. It takes the thread's lease (two runs on one thread at once get
:class:`~graphpool.errors.ThreadBusyError`), loads the checkpoint to continue
from, and decides what the input means, as LangGraph does:

* a value: new input. The saved state is kept, the unfinished tasks are
  dropped, and the run starts with START applying the input;
* ``None``: continue where the thread stopped (after a crash, an error, a
  breakpoint), reusing the results that tasks of the unfinished step saved;
* ``Command(resume=..., update=..., goto=...)``: the same, after delivering
  the resume values, applying the update and adding the routes.

The drivers hand the run's SAVE records to :meth:`Checkpointing.save`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from ._runstate import restore
from ._scheduler import Run
from .checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    Lease,
    TaskResult,
    thread_address,
)
from .errors import EmptyInputError, InvalidResumeError, InvalidUpdateError
from .types import Command, Send

__all__ = ["Checkpointing", "open_thread"]

_INTERRUPT_ID = re.compile(r"[0-9a-f]{32}")


class Checkpointing:
    """The hook a durable run saves through: one thread of one saver, held by a lease."""

    def __init__(self, saver: BaseCheckpointSaver, thread_id: str, lease: Lease) -> None:
        self.saver = saver
        self.thread_id = thread_id
        self.lease = lease
        self.config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
        self._refreshed = time.monotonic()

    def __repr__(self) -> str:
        return f"<Checkpointing thread={self.thread_id!r} saver={self.saver!r}>"

    def save(self, record: Checkpoint | TaskResult, source: str) -> None:
        """Persist a checkpoint (it becomes the current one) or a task's result."""
        if isinstance(record, Checkpoint):
            metadata = {"source": source, "step": record.step, "parents": {}}
            self.config = self.saver.put(self.config, record, metadata)
            if time.monotonic() - self._refreshed > self.saver.lease_timeout / 3:
                self.saver.refresh(self.thread_id, self.lease)
                self._refreshed = time.monotonic()
        else:
            self.saver.put_result(self.config, record)

    def close(self) -> None:
        """Give the thread back."""
        self.saver.release(self.thread_id, self.lease)


def open_thread(
    saver: BaseCheckpointSaver, run: Run, input: Any, config: Mapping[str, Any] | None
) -> Checkpointing:
    """Make ``run`` durable on the thread ``config`` names; see the module docstring.

    Raises:
        InvalidConfigError: no ``thread_id`` in the config.
        ThreadBusyError: another live run holds the thread.
        EmptyInputError: ``None`` input for a thread with nothing saved.
        InvalidResumeError: a ``Command`` for a thread with nothing saved, or an
            ambiguous resume value.
    """
    thread_id, checkpoint_id = thread_address(config)
    lease = Lease.mine()
    saver.acquire(thread_id, lease)
    hook = Checkpointing(saver, thread_id, lease)
    try:
        saved = saver.get_tuple(config or {})
        _prepare(run, hook, saved, input, checkpoint_id)
    except BaseException:
        hook.close()
        raise
    run.durable = True
    run.checkpointing = hook
    return hook


def _prepare(
    run: Run, hook: Checkpointing, saved: CheckpointTuple | None, input: Any, addressed: str | None
) -> None:
    resuming = input is None or isinstance(input, Command)
    if saved is None:
        if addressed is not None:
            raise EmptyInputError(f"Thread {hook.thread_id!r} has no checkpoint {addressed!r}.")
        if input is None:
            raise EmptyInputError(
                f"invoke(None) continues a thread, but thread {hook.thread_id!r} has no saved "
                "state; pass an input to start it."
            )
        if resuming:
            raise InvalidResumeError(
                f"A Command input continues a thread, but thread {hook.thread_id!r} has no "
                "saved state to resume; pass an input to start it."
            )
        return
    checkpoint = saved.checkpoint
    hook.config = saved.config
    restore(run, checkpoint, pending=resuming)
    run.stop = checkpoint.step + run.options.recursion_limit + 2  # as LangGraph counts
    if not resuming:
        run.step = checkpoint.step + 2  # the input checkpoint is step + 1
        return
    run.resuming = True
    latest = addressed is None or _is_latest(hook, addressed)
    run.reuse = {r.task_id: r for r in saved.results} if latest else {}
    if isinstance(input, Command):
        _apply_command(run, input, saved.results if latest else ())


def _is_latest(hook: Checkpointing, checkpoint_id: str) -> bool:
    head = hook.saver.get_tuple({"configurable": {"thread_id": hook.thread_id}})
    return head is not None and head.checkpoint.id == checkpoint_id


def _apply_command(run: Run, command: Command, results: tuple[TaskResult, ...]) -> None:
    """Deliver a resume Command: resume values, then state updates, then routes."""
    if command.graph == Command.PARENT:
        raise InvalidUpdateError("Command(graph=Command.PARENT) as input: there is no parent.")
    if command.resume is not None:
        _deliver(run, command.resume, [i for r in results for i in r.interrupts])
    writes: list[tuple[str, Any]] = []
    writable = run.topology.writable
    for key, value in command.update_items():
        if key == "__object__":
            writes += writable.writes_of("Command(update=...)", value)
        elif key in writable.fields:
            writes.append((key, value))
    grouped: dict[str, list[Any]] = {}
    for key, value in writes:
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        run.channels[key].update(values)
    for target in command.goto_items():
        run._check_route("Command(goto=...)", target)
        if isinstance(target, Send):
            run.sends.append(target)
        else:
            run.triggered[target] = ("branch:to:" + target,)


def _deliver(run: Run, resume: Any, pending: list[Any]) -> None:
    if (
        isinstance(resume, dict)
        and resume
        and all(isinstance(k, str) and _INTERRUPT_ID.fullmatch(k) for k in resume)
    ):
        run.resume_by_id = dict(resume)
    elif len(pending) > 1:
        raise InvalidResumeError(
            f"{len(pending)} interrupts are pending "
            f"({', '.join(f'{i.id}: {i.value!r}' for i in pending)}); say which one each "
            "value answers: Command(resume={interrupt.id: value, ...})."
        )
    elif pending:
        run.resume_by_id = {pending[0].id: resume}
    else:
        run.unaddressed.append(resume)
