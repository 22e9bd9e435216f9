"""The payload of a run's ``checkpoints`` chunks (and ``debug`` ``checkpoint`` events),
shaped as LangGraph's: addresses, values, metadata, next nodes and their tasks.

Where the checkpoints live (thread, namespace, the enclosing runs' checkpoints)
is the driver's knowledge; it hands it to the run as a :class:`Scope`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .._constants import START
from ..checkpoint._records import Checkpoint
from .records import task_id

__all__ = ["Scope", "checkpoint_payload"]


@dataclasses.dataclass(frozen=True)
class Scope:
    """Where a durable run's checkpoints are saved, as its checkpoint chunks name it.

    Args:
        thread_id: the caller's thread id.
        ns: the run's checkpoint namespace (``""`` for a root graph, a subgraph's
            ``node:<task id>|...`` otherwise).
        parents: the current checkpoint of each enclosing run, by namespace (the
            metadata ``parents`` of a subgraph's checkpoints).
        subgraph_nodes: the nodes that run a subgraph: their tasks' ``state``
            addresses the subgraph's checkpoints under the task's namespace.
        held: checkpoints are written only when the run ends
            (``durability="exit"``): a chunk's ``parent_config`` then names the
            parent of the checkpoint the run began from, as LangGraph's do
            (test: the conformance case
            ``exit_durability_checkpoints_name_the_first_parent``).
    """

    thread_id: Any = None
    ns: str = ""
    parents: Mapping[str, str] = dataclasses.field(default_factory=dict)
    subgraph_nodes: frozenset[str] = frozenset()
    held: bool = False

    def address(self, checkpoint_id: str) -> dict[str, Any]:
        """The config that addresses checkpoint ``checkpoint_id`` of this run."""
        configurable: dict[str, Any] = {
            "checkpoint_ns": self.ns,
            "thread_id": self.thread_id,
            "checkpoint_id": checkpoint_id,
        }
        if self.parents:
            configurable["checkpoint_map"] = {**self.parents, self.ns: checkpoint_id}
        return {"configurable": configurable}

    def task_state(self, node: str, ident: str) -> dict[str, Any] | None:
        """A task's ``state``: for a subgraph node, the config of its checkpoints."""
        if node not in self.subgraph_nodes:
            return None
        ns = f"{self.ns}|{node}:{ident}" if self.ns else f"{node}:{ident}"
        return {"configurable": {"thread_id": self.thread_id, "checkpoint_ns": ns}}


def checkpoint_payload(
    scope: Scope,
    checkpoint: Checkpoint,
    parent: str,
    source: str,
    values: Any,
    asked: Any,
) -> dict[str, Any]:
    """A checkpoint chunk of ``checkpoint`` (saved after ``parent``, ``""`` for none);
    ``asked(task_id)`` gives the interrupts a restored task asked."""
    orders: list[tuple[str, tuple[int, Any]]] = [(START, (0, START))] if checkpoint.start else []
    orders += [(node, (0, node)) for node, _ in checkpoint.triggered]
    orders += [(send.node, (1, i)) for i, send in enumerate(checkpoint.sends)]
    tasks = ((node, task_id(checkpoint.id, order)) for node, order in orders)
    return {
        "config": scope.address(checkpoint.id),
        "parent_config": scope.address(parent) if parent else None,
        "values": values,
        "metadata": {"source": source, "step": checkpoint.step, "parents": dict(scope.parents)},
        "next": [node for node, _ in orders],
        "tasks": [
            {
                "id": ident,
                "name": node,
                "interrupts": asked(ident),
                "state": scope.task_state(node, ident),
            }
            for node, ident in tasks
        ],
    }
