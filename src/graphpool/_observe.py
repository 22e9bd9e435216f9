"""Observing runs: one typed hook object per run, told about steps and task attempts.

The scheduler calls the run's :class:`ObserverGroup` at a few fixed points (a task
handed to a worker, a task attempt finished, a step begun); the compiled graph calls
it when a run starts and ends. The group turns the runtime's internal ``Task``
objects into public :class:`TaskAttempt` records and fans them out to the
observers the caller chose: a :class:`~graphpool.Trace`, the CLI's progress
display, their own :class:`RunObserver`, and always the ``graphpool`` logger.

All hooks of one run are called from the thread (or event loop) that drives it,
one at a time; an observer shared by concurrent runs must lock its own state.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._constants import START

if TYPE_CHECKING:
    from ._core.task import Task

__all__ = ["ObserverGroup", "RunObserver", "TaskAttempt", "observe_async", "observe_sync"]

Outcome = Literal["succeeded", "retried", "failed"]

logger = logging.getLogger("graphpool")


@dataclasses.dataclass(frozen=True)
class TaskAttempt:
    """One attempt of one task, as it ended.

    Attributes:
        run_id: the run's id (``config["run_id"]``, or a fresh uuid).
        step: the superstep (in eager scheduling: the depth from START).
        node: the node's name.
        attempt: 1 for the first try, 2 for the first retry, ...
        worker: where it ran: a thread's name (``asyncio@<thread>`` for an
            async node awaited on that thread's event loop).
        start: wall-clock start, seconds since the epoch (``time.time()``).
        end: wall-clock end.
        outcome: ``"succeeded"``; ``"retried"`` (it failed and the retry
            policy runs it again); ``"failed"`` (it failed for good, and so did
            the run).
        error: ``repr`` of the exception, if it failed.
    """

    run_id: str
    step: int
    node: str
    attempt: int
    worker: str
    start: float
    end: float
    outcome: Outcome
    error: str | None = None

    @property
    def duration(self) -> float:
        """Seconds the attempt ran."""
        return self.end - self.start


class RunObserver:
    """Hooks called as a run goes; subclass and override the ones you need.

    Pass an instance with ``config={"observer": obj}`` (or a list of them). Every
    hook of one run is called from the thread that drives the run, never
    concurrently; the same observer given to concurrent runs needs a lock.
    """

    def on_run_start(self, run_id: str) -> None:
        """A run begins."""

    def on_step(self, run_id: str, step: int, nodes: Sequence[str]) -> None:
        """A superstep begins with tasks for ``nodes`` (not called in eager scheduling)."""

    def on_task_start(self, run_id: str, step: int, node: str, attempt: int) -> None:
        """A task attempt is handed to a worker."""

    def on_task_end(self, attempt: TaskAttempt) -> None:
        """A task attempt ended; see :attr:`TaskAttempt.outcome`."""

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        """A run ended: ``error`` is None on success, else what the caller gets."""


class _LogObserver(RunObserver):
    """Writes run events to the ``graphpool`` logger (silent unless logging is set up).

    Every record carries ``run_id``, ``step`` and ``node`` attributes (``None``
    where they do not apply), for formats like ``%(run_id)s %(step)s %(node)s``.
    """

    def _log(self, level: int, run_id: str, step: int | None, node: str | None, *msg: Any) -> None:
        if logger.isEnabledFor(level):
            extra = {"run_id": run_id, "step": step, "node": node}
            logger.log(level, *msg, extra=extra)

    def on_run_start(self, run_id: str) -> None:
        self._log(logging.INFO, run_id, None, None, "run %s started", run_id)

    def on_step(self, run_id: str, step: int, nodes: Sequence[str]) -> None:
        self._log(logging.DEBUG, run_id, step, None, "step %d: %s", step, ", ".join(nodes))

    def on_task_start(self, run_id: str, step: int, node: str, attempt: int) -> None:
        self._log(logging.DEBUG, run_id, step, node, "task %s started (attempt %d)", node, attempt)

    def on_task_end(self, attempt: TaskAttempt) -> None:
        a = attempt
        if a.outcome == "succeeded":
            level, what = logging.DEBUG, "succeeded"
        elif a.outcome == "retried":
            level, what = logging.WARNING, f"failed with {a.error}; retrying"
        else:
            level, what = logging.ERROR, f"failed with {a.error}"
        where = f", {a.duration:.3f}s on {a.worker}" if a.worker else ""  # stamped if observed
        self._log(
            level,
            a.run_id,
            a.step,
            a.node,
            "task %s %s (attempt %d%s)",
            a.node,
            what,
            a.attempt,
            where,
        )

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        if error is None:
            self._log(logging.INFO, run_id, None, None, "run %s finished", run_id)
        else:
            self._log(logging.INFO, run_id, None, None, "run %s ended: %r", run_id, error)


_LOG = _LogObserver()


class ObserverGroup:
    """The observers of one run; what the scheduler and drivers call.

    The virtual START task is not reported: it runs no user code.
    """

    __slots__ = ("logging_only", "observers")

    def __init__(self, observers: Sequence[RunObserver] = ()) -> None:
        self.observers: tuple[RunObserver, ...] = (_LOG, *observers)
        self.logging_only = not observers  # then per-task events matter only at DEBUG

    def __repr__(self) -> str:
        return f"<ObserverGroup {[type(o).__name__ for o in self.observers]}>"

    def adding(self, observer: RunObserver) -> ObserverGroup:
        """A group with these observers and ``observer``."""
        return ObserverGroup((*self.observers[1:], observer))

    def run_started(self, run_id: str) -> None:
        for o in self.observers:
            o.on_run_start(run_id)

    def step_started(self, run_id: str, step: int, tasks: Sequence[Task]) -> None:
        nodes = [t.node for t in tasks if t.node != START]
        if nodes:
            for o in self.observers:
                o.on_step(run_id, step, nodes)

    def quiet(self) -> bool:
        """Nothing would see a step, or a task's start or success (a run's hot path):
        then the core reports only failed and retried attempts."""
        return self.logging_only and not logger.isEnabledFor(logging.DEBUG)

    def task_started(self, run_id: str, task: Task) -> None:
        if task.node != START:
            for o in self.observers:
                o.on_task_start(run_id, task.step, task.node, task.attempt)

    def task_ended(self, run_id: str, task: Task, outcome: Outcome) -> None:
        if task.node == START:
            return
        record = TaskAttempt(
            run_id,
            task.step,
            task.node,
            task.attempt,
            task.worker,
            task.started_at,
            task.ended_at,
            outcome,
            None if task.error is None else repr(task.error),
        )
        for o in self.observers:
            o.on_task_end(record)

    def run_ended(self, run_id: str, error: BaseException | None) -> None:
        for o in self.observers:
            o.on_run_end(run_id, error)


def observe_sync(group: ObserverGroup, run_id: str, events: Iterator[Any]) -> Iterator[Any]:
    """Pass ``events`` through, telling the run's observers when it starts and ends."""
    group.run_started(run_id)
    error: BaseException | None = None
    try:
        yield from events
    except BaseException as exc:
        error = exc
        raise
    finally:
        group.run_ended(run_id, error)


async def observe_async(
    group: ObserverGroup, run_id: str, events: AsyncIterator[Any]
) -> AsyncGenerator[Any, None]:
    """Async :func:`observe_sync`."""
    import contextlib

    group.run_started(run_id)
    error: BaseException | None = None
    try:
        # closed with this generator: a caller that stops early stops the run at once
        async with contextlib.aclosing(events):  # type: ignore[type-var]
            async for event in events:
                yield event
    except BaseException as exc:
        error = exc
        raise
    finally:
        group.run_ended(run_id, error)
