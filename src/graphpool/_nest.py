"""Subgraphs: a compiled graph run inside a task of another run (a nested run).

A compiled graph added as a node, or invoked inside a node function, runs as a
nested run in the thread (or coroutine) running the parent's task, as
LangGraph's subgraphs do. :func:`nest_of` finds the parent's task and gives
the nested run what it inherits (:class:`Nest`): the parent's pools and lane
(no second admission, the same ``max_workers`` and fairness), its namespace
``parent_node:task_id`` (LangGraph's ``checkpoint_ns`` form), the checkpointer
(by the subgraph's ``compile(checkpointer=None|True|False)``), the store and
context, and where its stream chunks go when the root streams with
``subgraphs=True``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ._context import CURRENT

__all__ = ["Nest", "Nested", "SubgraphNode", "nest_of", "recast"]

NS_SEP = "|"
NS_END = ":"


_STOPPED = {"__interrupt__": ()}
_CALLBACK_MODES = frozenset({"messages", "tools"})  # a breakpoint's chunk: only the root's is shown


class Nested(NamedTuple):
    """A chunk a nested run made, on its way to the root's stream."""

    namespace: tuple[str, ...]
    chunk: Any


@dataclasses.dataclass(frozen=True)
class Nest:
    """What a nested run takes from the task it runs in.

    Attributes:
        job: the parent's running task (a ``_dispatch.TaskJob``).
        ns: the nested run's ``checkpoint_ns`` (``"node:task_id"``, ``|``-joined).
        lane: the root run's lane in the pools (admitted once, by the root).
        sink: the root's sink for chunks made inside tasks, or None.
        subgraphs: the root streams with ``subgraphs=True``: forward every chunk.
        modes: the stream modes the root makes.
        detached: the nested graph was given a thread of its own: it runs as a
            graph of its own, whose chunks do not reach the root's stream, except
            its chat model tokens and tool calls (``messages``, ``tools``), under
            the root's own namespace ``()``, as LangGraph's callbacks carry them.
    """

    job: Any
    ns: str
    task_ns: str  # the parent task's own namespace (where Command.PARENT goes)
    lane: Any
    sink: Any
    subgraphs: bool
    modes: frozenset[str]
    detached: bool = False

    @property
    def namespace(self) -> tuple[str, ...]:
        return tuple(self.ns.split(NS_SEP))

    @property
    def parent_run(self) -> Any:
        return self.job.dispatcher.run

    def parents(self) -> dict[str, str]:
        """The checkpoint metadata ``parents`` of the nested run's checkpoints: the
        current checkpoint of each enclosing run, by namespace (LangGraph's)."""
        hook = self.job.dispatcher.services.durability
        if hook is None:
            return {}
        configurable = hook.config["configurable"]
        found = dict(hook.parents)
        # the parent's current checkpoint, saved or (durability="exit") not yet
        current = getattr(self.parent_run, "checkpoint_id", "") or configurable.get("checkpoint_id")
        if current:
            ns = configurable.get("checkpoint_ns")
            found[ns if ns is not None else self.ns.rpartition(NS_SEP)[0]] = current
        return found

    def replay_map(self) -> dict[str, str]:
        """The checkpoint each namespace replays from, when the root run was given a
        subgraph's config (time travel into a subgraph), else empty."""
        hook = self.job.dispatcher.services.durability
        return getattr(hook, "replay_map", None) or {}

    def replay(self) -> Any:
        """The root's time travel (``_checkpointing.Replay``), or None."""
        hook = self.job.dispatcher.services.durability
        return getattr(hook, "replay", None)

    def relay(self, events: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
        """Pass the nested run's chunks on, copying those the root streams to its sink."""
        sink, modes = self.sink, self.modes
        forward = sink is not None and self.subgraphs
        namespace = self.namespace
        if self.detached:
            modes, namespace = modes.intersection(_CALLBACK_MODES), ()
        for mode, chunk in events:
            if forward and mode in modes and type(chunk) is not Nested and chunk != _STOPPED:
                sink.push(mode, Nested(namespace, chunk))
            yield mode, chunk

    def writer(self) -> Any:
        """The stream writer of nodes in the nested run: the root's custom chunks."""
        sink, namespace = self.sink, self.namespace
        if sink is None or not self.subgraphs or "custom" not in self.modes or self.detached:
            return None  # as LangGraph: a subgraph's custom chunks need subgraphs=True
        return lambda chunk: sink.push("custom", Nested(namespace, chunk))

    def resume_input(self) -> tuple[bool, Any]:
        """Whether the parent's task is being resumed (its nested run continues
        from its saved checkpoint), and the input that continues it."""
        run, task = self.parent_run, self.job.task
        if not run.resuming or not task.id:
            return False, None
        saved = run.reuse.get(task.id)
        if saved is None or saved.succeeded:
            return False, None
        return True, self.resume_command({i.id for i in saved.interrupts})

    def resume_command(self, own: set[str] | None = None) -> Any:
        """The parent run's resume values as a ``Command`` for the nested run, or None.

        A single value meant for this task (``own``: the ids of the interrupts it
        raised) goes as a plain value, so it answers the nested run's question even
        if that question's id changed (its state was updated meanwhile), as
        LangGraph's single resume value does."""
        from .types import Command

        run = self.parent_run
        if len(run.resume_by_id) == 1:
            ((ident, value),) = run.resume_by_id.items()
            if own is None or own == {ident}:  # its only question
                return Command(resume=value)
        if run.resume_by_id:
            return Command(resume=dict(run.resume_by_id))
        if run.unaddressed:
            return Command(resume=run.unaddressed[-1])
        return None


def recast(ns: str) -> str:
    """A namespace without task ids (``a:1|b:2`` -> ``a|b``): where a subgraph
    compiled with ``checkpointer=True`` keeps its one thread."""
    return NS_SEP.join(part.split(NS_END)[0] for part in ns.split(NS_SEP))


def addressed_to(job: Any) -> str | None:
    """The namespace a ``Command(graph=PARENT)`` coming out of a subgraph run in
    ``job``'s task carries (see :func:`for_parent`), or None if it ran none."""
    task = job.task
    if not task.id:
        return None
    parent = job.dispatcher.services.nest
    part = f"{task.node}{NS_END}{task.id}"
    return part if parent is None else f"{parent.ns}{NS_SEP}{part}"


def for_parent(error: BaseException, nest: Nest) -> BaseException:
    """A ``ParentCommand`` leaving a subgraph run, addressed to the task it ran in."""
    from .errors import ParentCommand
    from .types import Command

    if isinstance(error, ParentCommand) and error.command.graph == Command.PARENT:
        return ParentCommand(dataclasses.replace(error.command, graph=nest.task_ns))
    return error


def nest_of(graph: Any) -> Nest | None:
    """The nest of a graph invoked inside a running task of a graphpool run, or None."""
    job: Any = CURRENT.get()
    dispatcher = getattr(job, "dispatcher", None)
    if dispatcher is None:
        return None
    task = job.task
    if not task.id:  # a run without a checkpointer names its tasks only when asked
        seed = f"{dispatcher.run.options.run_id}|ns|{task.step}|{task.order}"
        task.id = str(uuid.uuid5(uuid.NAMESPACE_OID, seed))
    parent = dispatcher.services.nest
    part = f"{task.node}{NS_END}{task.id}"
    task_ns = ns = part if parent is None else f"{parent.ns}{NS_SEP}{part}"
    calls = dispatcher.nest_calls  # the graphs this attempt ran so far: each its own ns
    key = (task.id, job.attempt)
    count = calls.get(key, 0)
    calls[key] = count + 1
    if count:
        ns = f"{ns}{NS_SEP}{count}"
    if getattr(graph, "nest_checkpointer", None) is True:  # one thread per node: no task ids
        ns = recast(ns)
    if parent is not None:
        return dataclasses.replace(parent, job=job, ns=ns, task_ns=task_ns)
    services = dispatcher.services
    return Nest(
        job=job,
        ns=ns,
        task_ns=task_ns,
        lane=dispatcher.lane,
        sink=services.sink,
        subgraphs=services.subgraphs,
        modes=dispatcher.run.modes,
    )


class SubgraphNode:
    """A compiled graph as a node: ``graph.invoke(state, config)`` in the task."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.__name__ = graph.name

    def __repr__(self) -> str:
        return f"SubgraphNode({self.graph!r})"

    def __call__(self, state: Any, config: Any) -> Any:
        return self.graph.invoke(state, config)
