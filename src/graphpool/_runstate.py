"""A run's state as checkpoint records, and back: what makes a run durable.

:func:`export` turns a :class:`~graphpool._scheduler.Run` between two steps into a
:class:`~graphpool.checkpoint.Checkpoint`; :func:`restore` sets a fresh run to a
saved one; :func:`result_of` records how a task ended. Task ids are derived from
the checkpoint a step starts from (:func:`task_id`), so the process that resumes
a thread computes the same ids as the one that crashed and can match the
results it saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

from ._channels import MISSING
from ._constants import EMIT, START
from ._task import Task
from .checkpoint.base import Checkpoint, TaskResult, new_checkpoint_id
from .errors import CheckpointError, GraphInterrupt
from .types import Interrupt

if TYPE_CHECKING:
    from ._scheduler import Run

__all__ = ["export", "restore", "result_of", "resumed_tasks", "start_task", "task_id"]


def task_id(checkpoint_id: str, order: tuple[int, Any]) -> str:
    """A task's id: the same for the same step of the same checkpoint, in any process."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{checkpoint_id}|{order[0]}|{order[1]}"))


def export(
    run: Run, tasks: Iterable[Task], *, step: int | None = None, start: tuple[Any, ...] = ()
) -> Checkpoint:
    """The run's state now, as a new checkpoint (which becomes the run's current one).

    ``tasks`` are the step's tasks just committed; ``start`` is ``(input,)`` for
    the checkpoint saved before the START task applies the caller's input.
    """
    checkpoint = Checkpoint(
        id=new_checkpoint_id(),
        step=run.step if step is None else step,
        values={k: c.value for k, c in run.channels.items() if c.value is not MISSING},
        triggered=tuple(run.triggered.items()),
        sends=tuple(run.sends),
        barriers={
            join.channel: tuple(sorted(seen))
            for join, seen in zip(run.topology.joins, run.barriers, strict=True)
            if seen
        },
        start=start,
        ran=tuple(sorted({t.node for t in tasks})),
    )
    run.checkpoint_id = checkpoint.id
    return checkpoint


def restore(run: Run, checkpoint: Checkpoint, *, pending: bool = True) -> None:
    """Set a fresh run to a saved checkpoint; ``pending=False`` drops its unfinished tasks.

    Raises:
        CheckpointError: the checkpoint runs a node this graph does not have.
    """
    for key, value in checkpoint.values.items():
        if key in run.channels:
            run.channels[key].value = value
    run.step = checkpoint.step
    run.checkpoint_id = checkpoint.id
    joins = {join.channel: j for j, join in enumerate(run.topology.joins)}
    for channel, seen in checkpoint.barriers.items():
        if channel in joins:
            run.barriers[joins[channel]] = set(seen)
    if not pending:
        return
    nodes = run.topology.nodes
    for node in [n for n, _ in checkpoint.triggered] + [s.node for s in checkpoint.sends]:
        if node not in nodes:
            raise CheckpointError(
                f"Checkpoint {checkpoint.id!r} runs node {node!r} next, which this graph "
                f"does not have (nodes: {sorted(nodes)}). Was the graph changed?"
            )
    run.start = checkpoint.start
    run.triggered = dict(checkpoint.triggered)
    run.sends = list(checkpoint.sends)


def result_of(run: Run, task: Task) -> TaskResult:
    """How ``task`` ended: its writes and routes, its interrupts, or its error."""
    error = task.error
    if isinstance(error, GraphInterrupt):
        interrupts = tuple(i for i in error.interrupts if isinstance(i, Interrupt))
        answers = tuple(run.answers.get(task.id, ()))
        return TaskResult(task.id, task.node, interrupts=interrupts, answers=answers)
    if error is not None:
        return TaskResult(task.id, task.node, error=repr(error))
    return TaskResult(task.id, task.node, tuple(task.writes), tuple(task.routes))


def start_task(run: Run, input: Any) -> Task:
    """The START task that applies ``input`` (named after the current checkpoint)."""
    task = Task(run.step, START, (0, START), (START,), input)
    if run.durable:
        task.id = task_id(run.checkpoint_id, task.order)
    return task


def resumed_tasks(run: Run) -> Generator[tuple[Any, ...], Any, list[Task]]:
    """The first step of a restored run (set ``resuming``), as the scheduler's loop runs it.

    As in LangGraph, the state it resumes from goes out as a ``values`` chunk;
    tasks whose saved result succeeded are marked done with those writes (and
    their update is streamed with ``{"__metadata__": {"cached": True}}``);
    tasks that paused in ``interrupt()`` get back the answers they had.
    """
    run._fresh = False  # a breakpoint it stopped at does not fire again
    if "values" in run.modes:
        yield (EMIT, "values", run.output())
    if run.start:  # an input checkpoint: START still has to apply the input
        run.step += 1
        tasks = [start_task(run, run.start[0])]
    else:
        tasks = run._next_tasks()
    for task in tasks:
        saved = run.reuse.get(task.id)
        if saved is not None and saved.succeeded:
            task.start()
            task.succeed(None, list(saved.writes), list(saved.routes))
            if "updates" in run.modes and task.node != START:
                chunk = {task.node: run._update_of(task), "__metadata__": {"cached": True}}
                yield (EMIT, "updates", chunk)
        elif saved is not None and saved.interrupts:
            run.answers[task.id] = list(saved.answers)
    return tasks
