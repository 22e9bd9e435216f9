"""A run as checkpoint records, and back: what makes a run durable.

:func:`export` turns a run between two steps into a
:class:`~graphpool.checkpoint.Checkpoint`; :func:`restore` sets a fresh run to a
saved one; :func:`result_of` records how a task ended. :class:`ResumePlan` is
everything a run needs to know to continue a thread, decided before the run
starts (``_checkpointing.open_thread``) and handed to its constructor.

Task ids are derived from the checkpoint a step starts from (:func:`task_id`),
so the process that resumes a thread computes the same ids as the one that
crashed and can match the results it saved.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._channels import MISSING
from ..checkpoint._records import UPDATE_NODE, Checkpoint, TaskResult
from ..errors import CheckpointError, GraphInterrupt
from ..types import Command, Interrupt, Send

if TYPE_CHECKING:
    from .task import Task
    from .view import RunView

__all__ = [
    "FRESH",
    "INPUT",
    "ResumePlan",
    "export",
    "folded",
    "restore",
    "result_of",
    "task_id",
]


@dataclasses.dataclass(frozen=True)
class ResumePlan:
    """How a run begins: from nothing, or from a saved checkpoint of its thread.

    Attributes:
        durable: save checkpoints and task results as the run goes.
        checkpoint: the saved checkpoint to start from, if any.
        resuming: continue the checkpoint's unfinished step (input ``None`` or a
            ``Command``); otherwise its unfinished tasks are dropped and the new
            input is applied at ``step``.
        step: the step the run starts at (None: the checkpoint's).
        stop: the last step the run may start (None: ``recursion_limit``).
        reuse: saved results of the unfinished step's tasks, by task id.
        resume_by_id: ``Command(resume=...)`` values, by interrupt id.
        unaddressed: a resume value naming no interrupt (the first asker takes it).
        command: a ``Command`` input whose ``update`` and ``goto`` apply on restore.
        updates: the ``Command(update=...)`` writes of earlier resumes of the same
            checkpoint (saved as results of :data:`INPUT`), applied again first:
            the step they were given to has not committed yet.
        parent_id, source: the saved checkpoint's parent id and metadata source.
        fork: time travel (a ``checkpoint_id`` given, no resume value): the run
            first saves a copy of the checkpoint as a new child of it (metadata
            source ``"fork"``), and its branch grows from that copy, as LangGraph's.
    """

    durable: bool = False
    checkpoint: Checkpoint | None = None
    resuming: bool = False
    step: int | None = None
    stop: int | None = None
    reuse: Mapping[str, TaskResult] = dataclasses.field(default_factory=dict)
    resume_by_id: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    unaddressed: tuple[Any, ...] = ()
    command: Command | None = None
    updates: tuple[TaskResult, ...] = ()
    parent_id: str = ""  # the saved checkpoint's parent, and the source it was saved
    source: str = "loop"  # from: what a resumed run's first ``checkpoints`` chunk shows
    fork: bool = False


INPUT = UPDATE_NODE
"""The node name under which a resume's ``Command(update=...)`` writes are saved."""

FRESH = ResumePlan()
"""A run of a graph without a checkpointer."""


def task_id(checkpoint_id: str, order: tuple[int, Any]) -> str:
    """A task's id: the same for the same step of the same checkpoint, in any process."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{checkpoint_id}|{order[0]}|{order[1]}"))


def export(
    run: RunView,
    tasks: Iterable[Task],
    *,
    step: int | None = None,
    start: tuple[Any, ...] = (),
    ran: tuple[str, ...] | None = None,
) -> Checkpoint:
    """The run's state now, as a new checkpoint (which becomes the run's current one).

    ``tasks`` are the step's tasks just committed; ``start`` is ``(input,)`` for
    the checkpoint saved before the START task applies the caller's input;
    ``ran`` (a fork's: its original's) overrides the nodes ``tasks`` ran.
    """
    state = run.state
    untracked = run.topology.writable.untracked
    checkpoint = Checkpoint(
        id=run.new_checkpoint_id(),
        step=run.step if step is None else step,
        values={
            k: c.value
            for k, c in state.channels.items()
            if c.value is not MISSING and k not in untracked
        },
        triggered=tuple(state.triggered.items()),
        sends=tuple(_tracked(s, untracked) for s in state.sends),
        barriers={
            join.channel: tuple(sorted(seen))
            for join, seen in zip(run.topology.joins, state.barriers, strict=True)
            if seen
        },
        start=start,
        ran=tuple(sorted({t.node for t in tasks})) if ran is None else ran,
    )
    run.checkpoint_id = checkpoint.id
    return checkpoint


def restore(run: RunView, checkpoint: Checkpoint, *, pending: bool = True) -> None:
    """Set a fresh run to a saved checkpoint; ``pending=False`` drops its unfinished tasks.

    Raises:
        CheckpointError: the checkpoint runs a node this graph does not have.
    """
    state = run.state
    for key, value in checkpoint.values.items():
        if key in state.channels:
            state.channels[key].value = value
    run.step = checkpoint.step
    run.checkpoint_id = checkpoint.id
    joins = {join.channel: j for j, join in enumerate(run.topology.joins)}
    for channel, seen in checkpoint.barriers.items():
        if channel in joins:
            state.barriers[joins[channel]] = set(seen)
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
    state.triggered = dict(checkpoint.triggered)
    state.sends = list(checkpoint.sends)


PAUSED = "GraphInterrupt()"
"""The saved ``error`` of a task that paused with no interrupt to answer (a
subgraph it ran stopped at a breakpoint): not succeeded, so it runs again."""


def result_of(run: RunView, task: Task) -> TaskResult:
    """How ``task`` ended: its writes and routes, its interrupts, or its error."""
    error = task.error
    if isinstance(error, GraphInterrupt):
        interrupts = tuple(i for i in error.interrupts if isinstance(i, Interrupt))
        answers = tuple(run.answers.get(task.id, ()))
        if not interrupts:  # a subgraph it ran stopped at a breakpoint: run it again
            return TaskResult(task.id, task.node, answers=answers, error=PAUSED)
        return TaskResult(task.id, task.node, interrupts=interrupts, answers=answers)
    if error is not None:
        return TaskResult(task.id, task.node, error=repr(error))
    # the record keeps what the task asked when it last paused at this checkpoint
    # (LangGraph keeps the task's interrupt write); an answer given before it asked shows none
    prior = run.reuse.get(task.id)
    asked = prior.interrupts if prior is not None else ()
    untracked = run.topology.writable.untracked
    writes, routes = tuple(task.writes), tuple(task.routes)
    if untracked:  # kept in the run only: the saved result leaves them out
        writes = tuple(w for w in writes if w[0] not in untracked)
        routes = tuple(_tracked(r, untracked) for r in routes)
    return TaskResult(task.id, task.node, writes, routes, asked=asked)


def folded(writes: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A task's writes as its ``tasks`` result: ``{key: value}``, and for a key
    written more than once ``{key: {"$writes": [value, ...]}}``, as LangGraph's."""
    result: dict[str, Any] = {}
    for key, value in writes:
        earlier = result.get(key)
        if earlier is None:  # LangGraph's test: a None written first is not kept
            result[key] = value
        elif isinstance(earlier, dict) and isinstance(earlier.get("$writes"), list):
            earlier["$writes"].append(value)
        else:
            result[key] = {"$writes": [earlier, value]}
    return result


def _tracked(route: Any, untracked: frozenset[str]) -> Any:
    """A ``Send`` whose dict argument carries untracked keys, without them (to save)."""
    if not untracked or not isinstance(route, Send) or not isinstance(route.arg, dict):
        return route
    if untracked.isdisjoint(route.arg):
        return route
    arg = {k: v for k, v in route.arg.items() if k not in untracked}
    return Send(route.node, arg, timeout=route.timeout)
