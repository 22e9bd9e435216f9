"""The step: which tasks a step runs, and what a finished node's return value means.

Tasks of a step come from the previous step's triggers: one pull task per
triggered node (its input is the state, read through the node's input schema),
then one push task per ``Send`` (its input is the packet), in that order.

A node returns a partial state update (a dict or a schema instance), ``None``,
a ``Command`` (update, goto), a ``Send``, or a list mixing these;
:class:`Router` turns it into state writes and routes, and checks that every
route names a node of the graph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._topology import Topology
from ..errors import InvalidConfigError, InvalidRouteError, ParentCommand
from ..types import Command, Send, check_timeout
from .collector import Collector
from .task import Task

__all__ = ["PUSH", "Router", "make_tasks"]

PUSH = ("__pregel_push",)
"""The trigger of a ``Send`` task, as LangGraph names it."""

Writes = list[tuple[str, Any]]


def make_tasks(
    step: int,
    triggered: Mapping[str, tuple[str, ...]],
    sends: Sequence[Send],
    state: Collector,
    remaining: int = 0,
) -> list[Task]:
    """The tasks of ``step``: pull tasks in graph order, then push tasks in send order.

    ``remaining``: the steps the run may still take, this one included (managed keys).
    """
    index = state.topology.index
    tasks = [
        Task(step, node, (0, node), triggered[node], state.node_input(node, remaining))
        for node in sorted(triggered, key=index.__getitem__)
    ]
    for i, send in enumerate(sends):
        task = Task(step, send.node, (1, i), PUSH, send.arg)
        if send.timeout is not None:  # its own limits instead of the node's
            task.limits = check_timeout(send.timeout, "Send: timeout", InvalidConfigError)
        tasks.append(task)
    return tasks


class Router:
    """Turns what nodes return into state writes and checked routes."""

    __slots__ = ("topology",)

    def __init__(self, topology: Topology) -> None:
        self.topology = topology

    def interpret(self, node: str, output: Any) -> tuple[Writes, list[Any]]:
        """Split a node's return value into state writes and routes."""
        writable = self.topology.writable
        if output is None:
            return [], []
        if isinstance(output, dict):
            return writable.known_writes(node, output.items()), []
        if isinstance(output, Command):
            return self.command(node, output)
        if isinstance(output, Send):
            return [], [self.check(node, output)]
        if isinstance(output, (list, tuple)) and any(isinstance(o, Command) for o in output):
            writes: Writes = []
            routes: list[Any] = []
            for item in output:
                if isinstance(item, Command):
                    w, r = self.command(node, item)
                    writes += w
                    routes += r
                elif item is not None:
                    writes += writable.writes_of(node, item)
            return writes, routes
        return writable.writes_of(node, output), []

    def command(self, node: str, command: Command) -> tuple[Writes, list[Any]]:
        """The writes and routes of a ``Command`` a node returned (or given as input)."""
        if command.graph == Command.PARENT:  # for the task running this (sub)graph
            raise ParentCommand(command)
        writes: Writes = []
        writable = self.topology.writable
        pairs = []
        for key, value in command.update_items():
            if key == "__object__":
                writes += writable.writes_of(node, value)
            else:
                pairs.append((key, value))
        writes += writable.known_writes(node, pairs)  # unknown keys: dropped, with a warning
        return writes, [self.check(node, t) for t in command.goto_items()]

    def check(self, node: str, target: Any) -> Any:
        """``target`` (a node name or a ``Send``), if it names a node of the graph."""
        name = target.node if isinstance(target, Send) else target
        if name not in self.topology.nodes:
            raise InvalidRouteError(
                f"Node {node!r} routed to {name!r}, which is not a node of this graph "
                f"(nodes: {sorted(self.topology.nodes)}). LangGraph would ignore this route "
                "silently; graphpool stops. Fix the name or add the node."
            )
        return target
