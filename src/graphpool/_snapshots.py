"""Reading a thread's saved state: ``get_state`` and ``get_state_history`` of a graph
compiled with a checkpointer (editing it is :mod:`graphpool._updates`).

A snapshot is computed by restoring a scratch :class:`~graphpool._core.Run`
to the checkpoint and preparing its next step without running it, so ``next``
and the task ids are exactly those a resumed run would use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._config import RunOptions
from ._core import ResumePlan, Run, Task
from ._services import SYSTEM_CLOCK
from .checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    PregelTask,
    StateSnapshot,
    new_checkpoint_id,
)

if TYPE_CHECKING:
    from ._compiled import CompiledStateGraph

__all__ = ["get_state", "get_state_history", "prepared", "scratch_run"]


def scratch_run(
    graph: CompiledStateGraph, checkpoint: Checkpoint | None, *, pending: bool = True
) -> Run:
    """A run restored to ``checkpoint``, never started: with its unfinished step,
    or (``pending=False``) without it."""
    plan = ResumePlan(durable=True, checkpoint=checkpoint, resuming=pending, stop=1 << 62)
    options = RunOptions.from_config(None)
    return Run(
        graph.topology, options, (), clock=SYSTEM_CLOCK, plan=plan, checkpoint_ids=new_checkpoint_id
    )


def prepared(graph: CompiledStateGraph, checkpoint: Checkpoint) -> tuple[Run, list[Task]]:
    """A scratch run at ``checkpoint`` and the tasks of its next step (with their ids)."""
    run = scratch_run(graph, checkpoint)
    if checkpoint.start:
        run.step += 1
        return run, [run.start_task(checkpoint.start[0])]
    return run, run.next_tasks()


def _snapshot(graph: CompiledStateGraph, saved: CheckpointTuple, live: bool) -> StateSnapshot:
    """The snapshot of one checkpoint.

    ``live`` (the thread's latest state) shows it as it stands now: the writes of
    the next step's finished tasks applied, ``next`` only the tasks still to
    run, ``interrupts`` only those waiting. Otherwise it is a record of the
    step (as LangGraph's): the state at its start and every task it had.
    """
    run, tasks = prepared(graph, saved.checkpoint)
    results = {r.task_id: r for r in saved.results}
    listed: list[PregelTask] = []
    upcoming: list[str] = []
    interrupts: list[Any] = []
    done: list[Task] = []
    for task in tasks:
        result = results.get(task.id)
        pull = task.order[0] == 0
        path = ("__pregel_pull", task.node) if pull else ("__pregel_push", task.order[1], False)
        if live and result is not None and result.succeeded:
            task.start()
            task.succeed(None, list(result.writes), list(result.routes))
            done.append(task)
        else:
            upcoming.append(task.node)
        # a record shows every interrupt the step raised; the live state only those waiting
        raised = () if result is None else result.interrupts + (() if live else result.asked)
        interrupts.extend(raised)
        listed.append(
            PregelTask(
                id=task.id,
                name=task.node,
                path=path,
                error=result.error if result is not None else None,
                interrupts=raised,
                result=dict(result.writes) if result is not None and result.succeeded else None,
            )
        )
    if done:
        run.state.apply(sorted(done, key=lambda t: t.order))
    return StateSnapshot(
        values=graph.topology.writable.shown(graph.topology.writable.read(run.state.channels)),
        next=tuple(upcoming),
        config=saved.config,
        metadata=saved.metadata,
        created_at=saved.created_at,
        parent_config=saved.parent_config,
        tasks=tuple(listed),
        interrupts=tuple(interrupts),
    )


def get_state(saver: BaseCheckpointSaver, graph: CompiledStateGraph, config: Any) -> StateSnapshot:
    """The thread's latest checkpoint (or the one ``checkpoint_id`` names), as a snapshot."""
    saved = saver.get_tuple(config)
    if saved is None:
        return StateSnapshot({}, (), dict(config), None, None, None, (), ())
    live = "checkpoint_id" not in (config.get("configurable") or {})
    return _snapshot(graph, saved, live)


def get_state_history(
    saver: BaseCheckpointSaver,
    graph: CompiledStateGraph,
    config: Any,
    *,
    filter: Mapping[str, Any] | None = None,
    before: Any = None,
    limit: int | None = None,
) -> Iterator[StateSnapshot]:
    """The thread's checkpoints as snapshots, newest first."""
    count = 0
    for saved in saver.list(config, before=before):
        if filter and any(saved.metadata.get(k) != v for k, v in filter.items()):
            continue
        yield _snapshot(graph, saved, live=False)
        count += 1
        if limit is not None and count >= limit:
            return
