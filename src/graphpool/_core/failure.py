"""The failure manager: how long an attempt may run, and what happens when it fails.

Decisions only; the run carries them out. A failed attempt is retried when the
node's ``RetryPolicy`` (or the graph default) accepts the error for that
attempt, after the policy's delay, without holding a worker meanwhile; else the
run fails with the error, which gets a note naming the node, the attempt and
the run unless it is graphpool's own ``NodeError`` (which carries them).
"""

from __future__ import annotations

from .._constants import START
from .._topology import Topology
from ..errors import NodeError, NodeTimeoutError
from .task import Task

__all__ = ["FailureManager"]


class FailureManager:
    """Timeouts and retry decisions for one run's tasks."""

    __slots__ = ("idle_of", "run_id", "timeout_of", "topology")

    def __init__(self, topology: Topology, run_id: str) -> None:
        self.topology = topology
        self.run_id = run_id
        self.timeout_of = topology.timeouts.__getitem__
        """Seconds an attempt of a node may run, or None."""
        self.idle_of = topology.idle_limits.__getitem__
        """``(seconds, refresh_on)`` an attempt may go without progress, or None."""

    def _limits(self, task: Task) -> tuple[float | None, tuple[float, str] | None]:
        """The task's hard cap and idle limit: its ``Send``'s, else its node's."""
        if task.limits is not None:
            cap, idle = task.limits
            return cap, idle
        return self.timeout_of(task.node), self.idle_of(task.node)

    def first_deadline(self, task: Task, now: float) -> float | None:
        """When an attempt starting ``now`` times out unless it shows progress (or None)."""
        task.beat = now
        if task.limits is None and task.node in self.topology.unlimited:
            return None
        cap, idle = self._limits(task)
        limits = [x for x in (cap, idle[0] if idle else None) if x is not None]
        return now + min(limits) if limits else None

    def refreshed(self, task: Task, began: float, now: float) -> float | None:
        """A later deadline for an attempt past its deadline that showed progress
        (``runtime.heartbeat()``) within its idle limit; None: it timed out."""
        cap, idle = self._limits(task)
        if idle is None:
            return None
        deadline = task.beat + idle[0]
        if cap is not None:
            deadline = min(deadline, began + cap)
        return deadline if deadline > now else None

    def timeout_error(self, task: Task) -> NodeTimeoutError:
        cap, idle = self._limits(task)
        kind = "idle" if idle is not None and (cap is None or idle[0] < cap) else "run"
        limit = idle[0] if kind == "idle" and idle is not None else (cap or 0.0)
        what = "without progress for" if kind == "idle" else "after"
        return NodeTimeoutError(
            f"Node {task.node!r} timed out {what} {limit:g} s (attempt {task.attempt}, run "
            f"{self.run_id}).",
            node=task.node,
            attempt=task.attempt,
            run_id=self.run_id,
            timeout=limit,
            kind=kind,
            idle_timeout=idle[0] if idle is not None else None,
            run_timeout=cap,
        )

    def handler_task(self, task: Task, error: BaseException) -> Task | None:
        """The task of the error handler that runs in place of ``task``, which failed
        for good with ``error``; None if its node has none (see ``_handlers``)."""
        handler = self.topology.handled_by.get(task.node)
        if handler is None or task.failure is not None:  # handlers have no handlers
            return None
        stand_in = Task(task.step, handler, task.order, task.triggers, task.input)  # its place
        stand_in.failure = NodeError(
            f"Node {task.node!r} failed: {error!r}",
            node=task.node,
            attempt=task.attempt,
            run_id=self.run_id,
            error=error,
        )
        return stand_in

    def retry_delay(self, task: Task) -> float | None:
        """Seconds to wait before the failed ``task`` runs again, or None: give up."""
        assert task.error is not None
        if task.node == START:
            return None
        policies = self.topology.nodes[task.node].retry_policy or self.topology.default_retry
        for policy in policies:
            if policy.should_retry(task.error, task.attempt):
                return policy.delay(task.attempt)
        return None

    def given_up(self, task: Task, error: BaseException) -> BaseException:
        """The error the run fails with: a note names the node, attempt and run."""
        if not isinstance(error, NodeError) and hasattr(error, "add_note"):
            error.add_note(
                f"(graphpool: raised by node {task.node!r}, attempt {task.attempt}, "
                f"run {self.run_id})"
            )
        return error
