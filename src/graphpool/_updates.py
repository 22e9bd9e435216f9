"""Editing a thread's saved state: ``update_state`` and ``bulk_update_state`` of a graph
compiled with a checkpointer (reading it is :mod:`graphpool._snapshots`).

An update is a step that did not run: its tasks are made from the given values
(as if each ``as_node`` had returned them), committed like a real step's, and
saved as a new checkpoint. As in LangGraph, the step the update replaces is
dropped (its pending tasks do not run), each update's result is saved under the
checkpoint it builds on with the id of that node's task there (so the history
shows it as that task's result), and three pseudo-nodes do something else:
``"__input__"`` saves an input checkpoint, ``"__copy__"`` forks a checkpoint
into a sibling, and ``END`` with no values closes the pending step.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from typing import Any

from ._constants import END, START
from ._core import Run, Task
from ._core.records import export, result_of, task_id
from ._snapshots import SavedGraph, prepared, route, scratch_run
from .checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    Lease,
    new_checkpoint_id,
    thread_address,
)
from .errors import InvalidConfigError, InvalidUpdateError
from .types import StateUpdate

__all__ = ["bulk_update_state", "update_state"]

INPUT = "__input__"
COPY = "__copy__"


def update_state(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: Any,
    values: Any,
    as_node: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """Apply ``values`` to the thread as if node ``as_node`` had returned them.

    The node's edges and conditional edges run as after a real run of it, so
    the next step is what would follow that node. Saves a new checkpoint (its
    metadata says ``source: "update"``) and returns its config. See
    :func:`bulk_update_state` for ``as_node="__input__"``, ``"__copy__"`` and
    ``END``.

    Raises:
        InvalidUpdateError: ``as_node`` is not given and the last step ran
            several nodes, or it names no node of the graph.
        ThreadBusyError: a run is using the thread.
    """
    return bulk_update_state(saver, graph, config, [[StateUpdate(values, as_node, task_id)]])


def bulk_update_state(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: Any,
    supersteps: Sequence[Sequence[Any]],
) -> dict[str, Any]:
    """Apply supersteps of updates, one checkpoint each; returns the last one's config.

    Each superstep is a list of :class:`~graphpool.types.StateUpdate` (or
    ``(values, as_node[, task_id])`` tuples) committed together, as the tasks of
    one step are. Besides node names, ``as_node`` may be:

    * ``"__input__"``: save ``values`` as a new input, to be applied by START
      when the thread continues (``source: "input"``);
    * ``"__copy__"``: copy the checkpoint ``config`` addresses into a sibling
      (same parent, ``source: "fork"``) whose step runs again; ``values`` may be
      a list of updates to apply to the copy at once;
    * ``END`` with ``values=None``: close the pending step without running it
      (the writes of its tasks that had finished are kept).

    Raises:
        InvalidConfigError: no superstep, or an empty one (a ``ValueError``).
        InvalidUpdateError: an update the graph cannot take (unknown node, no
            ``as_node`` where several updates share a step, a pseudo-node among
            other updates, copying a checkpoint that does not exist).
        ThreadBusyError: a run is using the thread.
    """
    saver, graph, config = route(saver, graph, config, update=True)
    steps = [[_as_update(u) for u in superstep] for superstep in supersteps]
    if not steps:
        raise InvalidConfigError(
            "bulk_update_state(config, supersteps): No supersteps provided; pass a list of "
            "supersteps, each a list of StateUpdate."
        )
    for i, step in enumerate(steps):
        if not step:
            raise InvalidConfigError(
                f"bulk_update_state(config, supersteps): No updates provided in superstep {i}."
            )
    thread_id, _ = thread_address(config)
    lease = Lease.mine()
    saver.acquire(thread_id, lease)
    try:
        at = dict(config)
        for i, updates in enumerate(steps):
            at = _superstep(saver, graph, at, updates, first=i == 0)
        return _mapped(config, at)
    finally:
        saver.release(thread_id, lease)


def _mapped(given: Any, at: dict[str, Any]) -> dict[str, Any]:
    """A subgraph checkpoint's new config, naming the enclosing runs' checkpoints as
    the config it was made from did (``checkpoint_map``): the root invoked with it
    replays from there (see ``_compiled._replay_target``)."""
    configurable = at.get("configurable") or {}
    ns = configurable.get("checkpoint_ns")
    if not ns:
        return at
    found = dict((given.get("configurable") or {}).get("checkpoint_map") or {})
    found[ns] = configurable["checkpoint_id"]
    return {**at, "configurable": {**configurable, "checkpoint_map": found}}


def _as_update(item: Any) -> StateUpdate:
    if isinstance(item, StateUpdate):
        return item
    if isinstance(item, (tuple, list)) and 1 <= len(item) <= 3:
        return StateUpdate(*item)
    raise InvalidUpdateError(
        f"Invalid update {item!r}: each update is a StateUpdate(values, as_node, task_id)."
    )


def _superstep(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: dict[str, Any],
    updates: list[StateUpdate],
    *,
    first: bool,
) -> dict[str, Any]:
    """One superstep of updates on the checkpoint ``config`` addresses."""
    saved = saver.get_tuple(config)
    values, as_node = updates[0].values, updates[0].as_node
    special = [u.as_node for u in updates if u.as_node in (INPUT, COPY) or u.as_node == END]
    if special and len(updates) > 1:
        raise InvalidUpdateError(
            f"Cannot apply multiple updates together with as_node={special[0]!r}: updating as "
            "input, copying a checkpoint and clearing state each take a superstep of their own."
        )
    if as_node == COPY:
        return _copy(saver, graph, saved, values)
    if as_node == INPUT:
        return _input(saver, graph, config, saved, values)
    if as_node == END and values is None:
        return _close(saver, graph, config, saved)
    return _apply(saver, graph, config, saved, updates, first)


def _apply(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: dict[str, Any],
    saved: CheckpointTuple | None,
    updates: list[StateUpdate],
    first: bool,
) -> dict[str, Any]:
    nodes = graph.topology.nodes
    resolved: list[tuple[str, Any, str | None]] = []
    for update in updates:
        node = update.as_node
        if node is None:
            if len(updates) > 1:
                raise InvalidUpdateError(
                    "as_node is required when applying multiple updates in one superstep."
                )
            node = _infer_as_node(saved)
        if node != START and node not in nodes:
            raise InvalidUpdateError(
                f"update_state(as_node={node!r}): no such node (nodes: {sorted(nodes)})."
            )
        resolved.append((node, update.values, update.task_id))
    base = saved.checkpoint if saved is not None else None
    ids = _task_ids(graph, base)  # the ids of the tasks these updates stand for
    run = scratch_run(graph, base, pending=False)  # the step the update replaces is dropped
    run.step = (base.step if base is not None else -2) + 1
    tasks = []
    for i, (node, values, given) in enumerate(resolved):
        task = _as_task(run, node, values, i)
        fresh = task_id(base.id if base is not None else "", (2, i))
        task.id = given or (ids[node].popleft() if ids[node] else fresh)
        tasks.append(task)
    run.state.commit(tasks)
    checkpoint = export(run, tasks)
    if saved is not None and not (first and _superseded(saver, config, saved)):
        # as LangGraph: the history shows the update as the result of the step it replaced
        # (not on a checkpoint the thread has already moved past: its other forks read it)
        for task in tasks:
            saver.put_result(saved.config, result_of(run, task))
    metadata = {"source": "update", "step": checkpoint.step, "parents": {}}
    return saver.put(_parent(config, saved), checkpoint, metadata)


def _input(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: dict[str, Any],
    saved: CheckpointTuple | None,
    values: Any,
) -> dict[str, Any]:
    if values is None:
        raise InvalidUpdateError(
            "update_state(values=None, as_node='__input__'): Received no input writes; "
            "give the input the thread should continue with."
        )
    graph.topology.input.writes_of(START, values)  # a bad input fails now, not at the run
    base = saved.checkpoint if saved is not None else None
    run = scratch_run(graph, base, pending=False)
    step = base.step + 1 if base is not None else -1
    checkpoint = export(run, (), step=step, start=(values,))
    metadata = {"source": "input", "step": step, "parents": {}}
    return saver.put(_parent(config, saved), checkpoint, metadata)


def _copy(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    saved: CheckpointTuple | None,
    values: Any,
) -> dict[str, Any]:
    if saved is None:
        raise InvalidUpdateError(
            "update_state(as_node='__copy__'): Cannot copy a non-existent "
            "checkpoint; the config addresses none."
        )
    if values is not None and not isinstance(values, list):
        raise InvalidUpdateError(
            f"update_state(values={values!r}, as_node='__copy__'): values must be None or a "
            "list of StateUpdate to apply to the copy."
        )
    original = saved.checkpoint
    copy = dataclasses.replace(original, id=new_checkpoint_id(), step=original.step + 1)
    metadata = {"source": "fork", "step": copy.step, "parents": saved.metadata.get("parents", {})}
    parent = saved.parent_config or {"configurable": {"thread_id": thread_address(saved.config)[0]}}
    at = saver.put(parent, copy, metadata)
    if not values:
        return at
    # updates applied to the copy stand for its tasks, in order, node by node
    ids = _task_ids(graph, copy)
    updates = []
    for item in values:
        update = _as_update(item)
        node = update.as_node or ""
        given = ids[node].popleft() if ids[node] else None
        updates.append(update._replace(task_id=update.task_id or given))
    return _superstep(saver, graph, at, updates, first=False)


def _close(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: dict[str, Any],
    saved: CheckpointTuple | None,
) -> dict[str, Any]:
    """``END`` with no values: the pending step ends without running; its finished
    tasks' writes and routes are kept, the others are dropped."""
    if saved is None:
        run = scratch_run(graph, None)
        run.step = -1
        done: list[Task] = []
    else:
        run, tasks = prepared(graph, saved.checkpoint)
        results = {r.task_id: r for r in saved.results}
        done = []
        for task in tasks:
            result = results.get(task.id)
            if result is not None and result.succeeded:
                task.start()
                task.succeed(None, list(result.writes), list(result.routes))
                done.append(task)
        run.state.commit(done)
    checkpoint = export(run, done)
    metadata = {"source": "update", "step": checkpoint.step, "parents": {}}
    return saver.put(_parent(config, saved), checkpoint, metadata)


def _task_ids(graph: SavedGraph, base: Checkpoint | None) -> defaultdict[str, deque[str]]:
    """The ids of the tasks of ``base``'s next step, node by node, in task order."""
    ids: defaultdict[str, deque[str]] = defaultdict(deque)
    if base is not None:
        for task in prepared(graph, base)[1]:
            ids[task.node].append(task.id)
    return ids


def _parent(config: Mapping[str, Any], saved: CheckpointTuple | None) -> dict[str, Any]:
    if saved is not None:
        return saved.config
    return {"configurable": {"thread_id": thread_address(config)[0]}}


def _superseded(
    saver: BaseCheckpointSaver, config: Mapping[str, Any], saved: CheckpointTuple
) -> bool:
    """Whether the thread has moved past ``saved`` (``config`` named an older checkpoint)."""
    if not (config.get("configurable") or {}).get("checkpoint_id"):
        return False
    head = saver.get_tuple({"configurable": {"thread_id": thread_address(config)[0]}})
    return head is not None and head.checkpoint.id != saved.checkpoint.id


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


def _as_task(run: Run, node: str, values: Any, index: int) -> Task:
    """A finished task of ``node`` that returned ``values``, routes worked out."""
    topology = run.topology
    task = Task(run.step, node, (0, index), ("__update__",), None)
    if node == START:
        writes = [] if values is None else topology.input.writes_of(START, values)
        routes: list[Any] = []
    else:
        writes, routes = run.router.interpret(node, values)
    routes.extend(topology.edges.get(node, ()))
    config = run.options.for_node(run.step, node, ())
    for branch in topology.branches.get(node, ()):
        result = branch.path.call_sync(
            run.state.state_after(task, writes, branch.input_schema), config
        )
        routes.extend(run.router.check(node, t) for t in branch.destinations(result) if t != END)
    task.start()
    task.succeed(values, writes, routes)
    return task
