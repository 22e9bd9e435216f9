"""How a run stops early: ``interrupt()`` in a node, and breakpoints.

A task that calls ``interrupt()`` ends with :class:`~graphpool.errors.GraphInterrupt`;
the rest of its step still runs to the end, then the run stops without
committing the step (its checkpoint stays the one before it), so resuming runs
the step again, reusing what finished. ``interrupt_before``/``interrupt_after``
stop the run between two steps. Event shapes follow LangGraph: an ``updates``
chunk ``{"__interrupt__": (Interrupt, ...)}`` per paused task (``()`` at a
breakpoint), and a ``values`` chunk with the interrupts added to the state.
"""

from __future__ import annotations

from collections.abc import Collection, Generator, Iterable
from typing import TYPE_CHECKING, Any

from .._constants import INTERRUPT, START
from ..errors import GraphInterrupt
from .events import Emit, Event, Save
from .records import result_of
from .task import SUCCEEDED, Task

if TYPE_CHECKING:
    from .view import RunView

__all__ = ["after_interrupts", "at_breakpoint", "interrupted", "stop_at_breakpoint"]

Events = Generator[Event, Any, None]


def at_breakpoint(run: RunView, nodes: Collection[str], tasks: Iterable[Task]) -> bool:
    """Whether ``interrupt_before``/``_after`` (``nodes``) stops the run at these tasks.

    As in LangGraph, only once the state changed since the run (re)started: a
    resumed run passes the breakpoint it stopped at.
    """
    if not nodes or not run.fresh:
        return False
    if nodes == "*":
        return any(task.node != START for task in tasks)
    return any(task.node in nodes for task in tasks)


def stop_at_breakpoint(run: RunView) -> Events:
    if "updates" in run.modes:
        yield Emit("updates", {INTERRUPT: ()})


def interrupted(run: RunView, task: Task) -> Events:
    """A task paused in ``interrupt()``: save it and tell the caller, as it happens."""
    assert isinstance(task.error, GraphInterrupt)
    interrupts = task.error.interrupts
    if run.durable:
        yield Save(result_of(run, task), "task")
    if "updates" in run.modes:
        yield Emit("updates", {INTERRUPT: interrupts})
    if interrupts:  # none: a subgraph stopped at a breakpoint, as LangGraph shows it
        yield from run.values(interrupts)
    yield from run.task_event(task, start=False)


def after_interrupts(run: RunView, tasks: Iterable[Task]) -> Events:
    """The run stops after tasks of this step paused in ``interrupt()``.

    Like LangGraph, a last ``values`` chunk shows the writes of the step's tasks
    that did finish (not committed: the saved state is unchanged).
    """
    done = sorted((t for t in tasks if t.state is SUCCEEDED), key=lambda t: t.order)
    if any(t.writes for t in done):
        if not run.state.output_keys.isdisjoint(run.state.apply(done)):
            yield from run.values()
