"""Reading a thread's saved state: ``get_state`` and ``get_state_history`` of a graph
compiled with a checkpointer (editing it is :mod:`graphpool._updates`).

A snapshot is computed by restoring a scratch :class:`~graphpool._core.Run`
to the checkpoint and preparing its next step without running it, so ``next``
and the task ids are exactly those a resumed run would use.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ._config import RunOptions
from ._core import ResumePlan, Run, Task
from ._core.records import INPUT, PAUSED, folded
from ._nest import recast
from ._services import SYSTEM_CLOCK
from .checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    PregelTask,
    StateSnapshot,
    new_checkpoint_id,
)
from .errors import CheckpointError

if TYPE_CHECKING:
    from ._topology import Topology

__all__ = ["SavedGraph", "get_state", "get_state_history", "prepared", "scratch_run"]


class SavedGraph(Protocol):
    """What reading and editing a thread need of a compiled graph: its topology, and
    how it keeps its checkpoints when it runs as a subgraph (``compile(checkpointer=...)``).
    A ``CompiledStateGraph`` is one; this layer stands below it and does not import it."""

    @property
    def topology(self) -> Topology: ...

    @property
    def checkpointer(self) -> BaseCheckpointSaver | None: ...

    @property
    def nest_checkpointer(self) -> bool | None: ...


G = TypeVar("G", bound=SavedGraph)


def scratch_run(graph: SavedGraph, checkpoint: Checkpoint | None, *, pending: bool = True) -> Run:
    """A run restored to ``checkpoint``, never started: with its unfinished step,
    or (``pending=False``) without it."""
    plan = ResumePlan(durable=True, checkpoint=checkpoint, resuming=pending, stop=1 << 62)
    options = RunOptions.from_config(None)
    return Run(
        graph.topology, options, (), clock=SYSTEM_CLOCK, plan=plan, checkpoint_ids=new_checkpoint_id
    )


def prepared(graph: SavedGraph, checkpoint: Checkpoint) -> tuple[Run, list[Task]]:
    """A scratch run at ``checkpoint`` and the tasks of its next step (with their ids)."""
    run = scratch_run(graph, checkpoint)
    if checkpoint.start:
        run.step += 1
        return run, [run.start_task(checkpoint.start[0])]
    return run, run.next_tasks()


def _snapshot(
    graph: SavedGraph,
    saved: CheckpointTuple,
    live: bool,
    saver: BaseCheckpointSaver | None = None,
    subgraphs: bool = False,
) -> StateSnapshot:
    """The snapshot of one checkpoint.

    ``live`` (the thread's latest state) shows it as it stands now: the writes of
    the next step's finished tasks applied, ``next`` only the tasks still to
    run, ``interrupts`` only those waiting. Otherwise it is a record of the
    step (as LangGraph's): the state at its start and every task it had.
    """
    try:
        run, tasks = prepared(graph, saved.checkpoint)
    except CheckpointError:
        if not saved.config["configurable"].get("checkpoint_ns"):
            raise
        return _read_only(graph, saved)  # a namespace read with a graph not its own
    results = {r.task_id: r for r in saved.results}
    # a Command(update=...) given to this checkpoint shows in its values, as
    # LangGraph applies its null task's writes (in the history too)
    for update in sorted((r for r in saved.results if r.node == INPUT), key=lambda r: r.task_id):
        run.state.write(list(update.writes), "Command(update=...)")
    listed: list[PregelTask] = []
    upcoming: list[str] = []
    interrupts: list[Any] = []
    done: list[Task] = []
    configurable = saved.config["configurable"]
    parent_ns = configurable.get("checkpoint_ns") or ""
    thread_id = configurable["thread_id"]
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
                error=result.error if result is not None and result.error != PAUSED else None,
                interrupts=raised,
                result=folded(result.writes) if result is not None and result.succeeded else None,
                state=_task_state(graph, task, thread_id, parent_ns, saver, subgraphs),
            )
        )
    if done:
        run.state.apply(sorted(done, key=lambda t: t.order))
    return StateSnapshot(
        values=graph.topology.writable.shown(graph.topology.writable.read(run.state.channels)),
        next=tuple(upcoming),
        config=_with_map(saved),
        metadata=saved.metadata,
        created_at=saved.created_at,
        parent_config=_with_map(saved, parent=True),
        tasks=tuple(listed),
        interrupts=tuple(interrupts),
    )


def _read_only(graph: SavedGraph, saved: CheckpointTuple) -> StateSnapshot:
    """The snapshot of a subgraph checkpoint read with another graph's channels (a
    graph invoked inside a node, read with its parent, as LangGraph reads it): the
    values, and the nodes it runs next by name; no tasks."""
    run = scratch_run(graph, saved.checkpoint, pending=False)
    checkpoint = saved.checkpoint
    upcoming = [n for n, _ in checkpoint.triggered] + [s.node for s in checkpoint.sends]
    return StateSnapshot(
        values=graph.topology.writable.read(run.state.channels),
        next=tuple(upcoming),
        config=_with_map(saved),
        metadata=saved.metadata,
        created_at=saved.created_at,
        parent_config=_with_map(saved, parent=True),
        tasks=(),
        interrupts=(),
    )


def _with_map(saved: CheckpointTuple, parent: bool = False) -> Any:
    """A subgraph checkpoint's config (or with ``parent``, its parent's) names every
    enclosing run's checkpoint too (``checkpoint_map``, as LangGraph's), so invoking
    the root with it replays there."""
    config = saved.parent_config if parent else saved.config
    if config is None:
        return None
    configurable = config.get("configurable") or {}
    ns = configurable.get("checkpoint_ns")
    if not ns:
        return config
    parents = saved.metadata.get("parents")
    found = dict(parents) if isinstance(parents, dict) else {}
    found[ns] = configurable["checkpoint_id"]
    return {**config, "configurable": {**configurable, "checkpoint_map": found}}


def _task_state(
    graph: SavedGraph,
    task: Task,
    thread_id: str,
    parent_ns: str,
    saver: BaseCheckpointSaver | None,
    subgraphs: bool,
) -> Any:
    """A subgraph task's ``state``: the subgraph's snapshot (``subgraphs=True``), or
    the config that addresses it; None for other tasks."""
    sub = subgraph_of(graph, task.node)
    if sub is None:
        return None
    ns = f"{task.node}:{task.id}" if not parent_ns else f"{parent_ns}|{task.node}:{task.id}"
    config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns}}
    if not subgraphs or saver is None:
        return config
    if sub.nest_checkpointer is True:
        config["configurable"]["checkpoint_ns"] = recast(ns)
    return _state(sub.checkpointer or saver, sub, config, True)


def subgraph_of(graph: G, node: str) -> G | None:
    """The compiled graph that node ``node`` of ``graph`` runs, if it is a subgraph."""
    from ._nest import SubgraphNode

    spec = graph.topology.nodes.get(node)
    fn = spec.callee.fn if spec is not None else None
    if isinstance(fn, SubgraphNode):  # one compiled with checkpointer=False: not counted
        return fn.graph if fn.graph.nest_checkpointer is not False else None
    return _reached_graph(fn, type(graph))


def _reached_graph(fn: Any, kind: type) -> Any:
    """A compiled graph a node function reaches (a captured variable, or a global it
    names) and so may invoke: LangGraph counts it as the node's subgraph, unless
    it was compiled with ``checkpointer=False``."""
    import types

    fn = getattr(fn, "__func__", fn)
    fn = getattr(fn, "__wrapped__", fn)
    if not isinstance(fn, types.FunctionType):
        return None
    found = []
    for cell in fn.__closure__ or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    found += [fn.__globals__[n] for n in fn.__code__.co_names if n in fn.__globals__]
    for value in found:
        if isinstance(value, kind) and getattr(value, "nest_checkpointer", None) is not False:
            return value
    return None


def route(
    saver: BaseCheckpointSaver, graph: G, config: Any, *, update: bool = False
) -> tuple[BaseCheckpointSaver, G, Any]:
    """The saver, graph and config a config with a ``checkpoint_ns`` addresses: the
    subgraph its node names lead to (a ``checkpointer=True`` one keeps its thread
    under the namespace without task ids). A namespace that names no declared
    subgraph (a graph invoked inside a node) is read with ``graph`` itself, as
    LangGraph does; it cannot be updated.

    Raises:
        InvalidConfigError: ``update`` and no declared subgraph at that namespace.
    """
    configurable = dict((config or {}).get("configurable") or {})
    ns = configurable.get("checkpoint_ns") or ""
    if not ns:
        return saver, graph, config
    found = dict(subgraphs_of(graph, recast(ns), True))
    target = found.get(recast(ns))
    if target is None:
        if update:
            from .errors import InvalidConfigError

            raise InvalidConfigError(
                f"Subgraph {recast(ns)} not found: update_state on a namespace needs the "
                "compiled graph added as a node there."
            )
        return saver, graph, config
    if target.nest_checkpointer is True:
        configurable["checkpoint_ns"] = recast(ns)
    return target.checkpointer or saver, target, {**config, "configurable": configurable}


def subgraphs_of(graph: G, namespace: str | None, recurse: bool) -> Iterator[tuple[str, G]]:
    """``(namespace, subgraph)`` of ``graph``'s subgraph nodes; with ``namespace``,
    only the one there (matched by whole ``|``-separated segments)."""
    head, _, rest = (namespace or "").partition("|")
    for name in graph.topology.nodes:
        sub = subgraph_of(graph, name)
        if sub is None or (namespace is not None and name != head):
            continue
        if namespace is None or not rest:
            yield name, sub
        if recurse and (namespace is None or rest):
            for inner, graph_ in subgraphs_of(sub, rest if namespace is not None else None, True):
                yield f"{name}|{inner}", graph_


def get_state(
    saver: BaseCheckpointSaver, graph: SavedGraph, config: Any, subgraphs: bool = False
) -> StateSnapshot:
    """The thread's latest checkpoint (or the one ``checkpoint_id`` names), as a snapshot."""
    saver, graph, config = route(saver, graph, config)
    return _state(saver, graph, config, subgraphs)


def _state(
    saver: BaseCheckpointSaver, graph: SavedGraph, config: Any, subgraphs: bool
) -> StateSnapshot:
    saved = saver.get_tuple(config)
    if saved is None:
        return StateSnapshot({}, (), dict(config), None, None, None, (), ())
    live = "checkpoint_id" not in (config.get("configurable") or {})
    return _snapshot(graph, saved, live, saver, subgraphs)


def get_state_history(
    saver: BaseCheckpointSaver,
    graph: SavedGraph,
    config: Any,
    *,
    filter: Mapping[str, Any] | None = None,
    before: Any = None,
    limit: int | None = None,
) -> Iterator[StateSnapshot]:
    """The thread's checkpoints as snapshots, newest first."""
    saver, graph, config = route(saver, graph, config)
    configurable = (config or {}).get("configurable") or {}
    if "checkpoint_ns" not in configurable:  # this graph's own checkpoints, no subgraph's
        config = {**config, "configurable": {**configurable, "checkpoint_ns": ""}}
    count = 0
    for saved in saver.list(config, before=before):
        if filter and any(saved.metadata.get(k) != v for k, v in filter.items()):
            continue
        yield _snapshot(graph, saved, False, saver)
        count += 1
        if limit is not None and count >= limit:
            return
