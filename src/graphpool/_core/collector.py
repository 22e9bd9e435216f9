"""The result collector: the run's state, and how finished tasks' writes merge into it.

A step's writes are applied together once every task of the step is done, in
LangGraph's order: pull tasks (triggered by edges) by node name, then ``Send``
tasks in the order they were sent. Several writes to one key in one step go to
its reducer in that order; a key without a reducer takes one write per step
(``InvalidUpdateError`` otherwise, raised by the channel). The routes of the
committed tasks, and the join edges whose sources have all run, decide what
the next step triggers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._channels import MISSING, Channel
from .._schema import Schema
from .._topology import Topology
from ..types import Send
from .task import Task

__all__ = ["Collector"]


def _order(task: Task) -> tuple[int, Any]:
    return task.order


class Collector:
    """One run's channels and the triggers for its next step.

    Attributes:
        channels: the state, one channel per key (with its reducer).
        triggered: nodes the next step runs, with the channels that triggered them.
        sends: ``Send`` packets for the next step, in send order.
        barriers: for each join edge, the sources that have run since it last fired.
    """

    __slots__ = (
        "_readers",
        "barriers",
        "channels",
        "output_keys",
        "sends",
        "shown",
        "topology",
        "triggered",
    )

    def __init__(self, topology: Topology, *, every_key: bool = False) -> None:
        self.topology = topology
        # what ``values`` chunks show: the output schema's keys, or (``stream()``,
        # as LangGraph streams every channel) every key of the state
        self.shown = topology.writable if every_key else topology.output
        self.channels: dict[str, Channel] = topology.writable.new_channels()
        self.triggered: dict[str, tuple[str, ...]] = {}
        self.sends: list[Send] = []
        self.barriers: list[set[str]] = [set() for _ in topology.joins]
        self.output_keys = frozenset(self.shown.keys)
        self._readers = topology.readers  # (a cached property: a slow read per step)

    def __repr__(self) -> str:
        return f"<Collector next={list(self.triggered)} sends={len(self.sends)}>"

    def apply(self, tasks: Sequence[Task]) -> dict[str, list[Any]]:
        """Apply the tasks' state writes, in the given order; returns them by key."""
        pending: dict[str, list[Any]] = {}
        writers: dict[str, list[str]] = {}
        for task in tasks:
            for key, value in task.writes:
                pending.setdefault(key, []).append(value)
                writers.setdefault(key, []).append(task.node)
        for key, values in pending.items():
            self.channels[key].update(values, writers[key])  # errors name the writers
        return pending

    def write(self, writes: list[tuple[str, Any]], writer: str) -> None:
        """Apply writes that come from outside a step (a resume's ``Command(update=)``)."""
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            grouped.setdefault(key, []).append(value)
        for key, values in grouped.items():
            self.channels[key].update(values, [writer] * len(values))

    def commit(self, tasks: list[Task]) -> bool:
        """Apply a finished step in LangGraph's order and record what runs next.

        Returns whether an output key was written (a ``values`` chunk is due).
        """
        if len(tasks) == 1 and len(writes := tasks[0].writes) == 1:  # a chain's step
            key, value = writes[0]
            self.channels[key].update((value,), (tasks[0].node,))
            wrote = key in self.output_keys
        else:
            if len(tasks) > 1:
                tasks.sort(key=_order)
            wrote = not self.output_keys.isdisjoint(self.apply(tasks))
        joins_from = self.topology.joins_from
        triggered = self.triggered
        for task in tasks:
            for route in task.routes:
                if isinstance(route, str):  # a node name (a str enum member too)
                    triggered[route] = ("branch:to:" + route,)
                else:
                    self.sends.append(route)
            if joins_from:
                for j in joins_from.get(task.node, ()):
                    self.barriers[j].add(task.node)
        if joins_from:
            for j, seen in enumerate(self.barriers):
                join = self.topology.joins[j]
                if seen and seen >= join.sources:
                    seen.clear()
                    triggered[join.target] = (*triggered.get(join.target, ()), join.channel)
        return wrote

    def take_next(self) -> tuple[dict[str, tuple[str, ...]], list[Send]]:
        """What the next step runs; the collector starts afresh for the step after.

        A triggered node added with ``defer=True`` waits while anything else is
        to run: its trigger stays for a later step, as in LangGraph.
        """
        triggered, sends = self.triggered, self.sends
        deferred = self.topology.deferred
        if deferred and (sends or any(node not in deferred for node in triggered)):
            waiting = {n: t for n, t in triggered.items() if n in deferred}
            triggered = {n: t for n, t in triggered.items() if n not in deferred}
            self.triggered, self.sends = waiting, []
            return triggered, sends
        self.triggered, self.sends = {}, []
        return triggered, sends

    def output(self) -> Any:
        """The current values of the output keys that have one (a root state: its value)."""
        shown = self.shown
        return shown.shown(shown.read(self.channels))

    def update_of(self, task: Task) -> Any:
        """A task's ``updates`` chunk: its writes to the keys chunks show (every key
        under ``stream()``, the output's under ``invoke()``, as LangGraph's); a list
        if a key repeats."""
        writes = [(k, v) for k, v in task.writes if k in self.output_keys]
        if not writes:
            return None
        keys = [k for k, _ in writes]
        shown = self.shown.shown
        if len(set(keys)) < len(keys):
            return [shown({k: v}) for k, v in writes]
        return shown(dict(writes))

    def state_after(
        self, task: Task, writes: list[tuple[str, Any]], schema: Schema | None = None
    ) -> Any:
        """The state ``task``'s node sees plus its own writes (what its routes read), as
        ``schema`` (a route's own state annotation) or else the node's input shows it."""
        channels = task.view if task.view is not None else self.channels
        schema = schema or self.topology.reader_of(task.node)
        values = schema.read(channels)
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            grouped.setdefault(key, []).append(value)
        for key, group in grouped.items():
            if key in schema.fields:
                channel = channels[key].copy()
                channel.update(group, [task.node] * len(group))
                if channel.value is not MISSING:
                    values[key] = channel.value
        return schema.coerce(values)

    def node_input(self, node: str, remaining: int = 0) -> Any:
        """The state a pull task's node receives now, shaped by its input schema
        (its managed keys filled in for a step with ``remaining`` steps left)."""
        schema = self._readers[node]
        channels = self.channels
        values = {}
        for key in schema.keys:  # schema.read(), inline (a chain step's hot path)
            channel = channels.get(key)
            if channel is not None and channel.value is not MISSING:
                values[key] = channel.value
        if schema.managed:
            values.update((key, kind.get(remaining)) for key, kind in schema.managed.items())
        if schema.kind == "dict":
            return values
        return schema.coerce(values)
