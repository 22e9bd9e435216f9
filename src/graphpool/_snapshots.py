"""Reading and editing a thread's saved state: ``get_state``, ``get_state_history``,
``update_state`` of a graph compiled with a checkpointer.

A snapshot is computed by restoring a scratch :class:`~graphpool._core.Run`
to the checkpoint and preparing its next step without running it, so ``next``
and the task ids are exactly those a resumed run would use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ._config import RunOptions
from ._constants import END, START
from ._core import ResumePlan, Run, Task
from ._core.records import export
from ._services import SYSTEM_CLOCK
from .checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    Lease,
    PregelTask,
    StateSnapshot,
    new_checkpoint_id,
    thread_address,
)
from .errors import InvalidUpdateError

if TYPE_CHECKING:
    from ._compiled import CompiledStateGraph

__all__ = ["get_state", "get_state_history", "update_state"]


def _scratch_run(graph: CompiledStateGraph, checkpoint: Checkpoint | None) -> Run:
    """A run restored to ``checkpoint`` (with its unfinished step), never started."""
    plan = ResumePlan(durable=True, checkpoint=checkpoint, resuming=True, stop=1 << 62)
    options = RunOptions.from_config(None)
    return Run(
        graph.topology, options, (), clock=SYSTEM_CLOCK, plan=plan, checkpoint_ids=new_checkpoint_id
    )


def _snapshot(graph: CompiledStateGraph, saved: CheckpointTuple, live: bool) -> StateSnapshot:
    """The snapshot of one checkpoint.

    ``live`` (the thread's latest state) shows it as it stands now: the writes of
    the next step's finished tasks applied, ``next`` only the tasks still to
    run, ``interrupts`` only those waiting. Otherwise it is a record of the
    step (as LangGraph's): the state at its start and every task it had.
    """
    checkpoint = saved.checkpoint
    run = _scratch_run(graph, checkpoint)
    if checkpoint.start:
        run.step += 1
        tasks = [run.start_task(checkpoint.start[0])]
    else:
        tasks = run.next_tasks()
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
        values=graph.topology.writable.read(run.state.channels),
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


def update_state(
    saver: BaseCheckpointSaver,
    graph: CompiledStateGraph,
    config: Any,
    values: Any,
    as_node: str | None = None,
) -> dict[str, Any]:
    """Apply ``values`` to the thread as if node ``as_node`` had returned them.

    The node's edges and conditional edges run as after a real run of it, so
    the next step is what would follow that node. Saves a new checkpoint (its
    metadata says ``source: "update"``) and returns its config.

    Raises:
        InvalidUpdateError: ``as_node`` is not given and the last step ran
            several nodes, or it names no node of the graph.
        ThreadBusyError: a run is using the thread.
    """
    thread_id, _ = thread_address(config)
    lease = Lease.mine()
    saver.acquire(thread_id, lease)
    try:
        saved = saver.get_tuple(config)
        run = _scratch_run(graph, saved.checkpoint if saved is not None else None)
        node = as_node if as_node is not None else _infer_as_node(saved)
        if node != START and node not in graph.topology.nodes:
            raise InvalidUpdateError(
                f"update_state(as_node={node!r}): no such node (nodes: "
                f"{sorted(graph.topology.nodes)})."
            )
        run.step = (saved.checkpoint.step if saved is not None else -2) + 1
        task = _as_task(run, node, values, run.options.for_node(run.step, node, ()))
        run.state.commit([task])
        checkpoint = export(run, [task])
        metadata = {"source": "update", "step": checkpoint.step, "parents": {}}
        parent = saved.config if saved is not None else {"configurable": {"thread_id": thread_id}}
        return saver.put(parent, checkpoint, metadata)
    finally:
        saver.release(thread_id, lease)


def _infer_as_node(saved: CheckpointTuple | None) -> str:
    if saved is None:
        return START
    ran = saved.checkpoint.ran
    if len(ran) != 1:
        raise InvalidUpdateError(
            "Ambiguous update, specify as_node: the last step ran "
            f"{list(ran) or 'no node'}; pass update_state(config, values, as_node=...)."
        )
    return ran[0]


def _as_task(run: Run, node: str, values: Any, config: Mapping[str, Any]) -> Task:
    """A finished task of ``node`` that returned ``values``, routes worked out."""
    topology = run.topology
    task = Task(run.step, node, (0, node), ("__update__",), None)
    if node == START:
        writes = [] if values is None else topology.input.writes_of(START, values)
        routes: list[Any] = []
    else:
        writes, routes = run.router.interpret(node, values)
    routes.extend(topology.edges.get(node, ()))
    for branch in topology.branches.get(node, ()):
        result = branch.path.call_sync(run.state.state_after(task, writes), config)
        routes.extend(run.router.check(node, t) for t in branch.destinations(result) if t != END)
    task.start()
    task.succeed(values, writes, routes)
    return task
