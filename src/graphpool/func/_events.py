"""What a task call tells the run's streams: its update, and its start and end events.

Chunks made inside a running call travel on the run's ``custom`` sink, marked,
and :class:`~graphpool.func._stream.Chunks` turns them into the caller's modes:

* ``updates``: ``{name: result}`` as the call finishes;
* ``tasks`` and ``debug``: the call's start (its ``(args, kwargs)``, triggered by
  ``"__pregel_push"`` as LangGraph's pushed tasks are) and its end (its result
  as ``{"__return__": value}``, its error or its interrupts).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TASK_EVENT", "UPDATE", "ended", "started"]

UPDATE = "__graphpool_task_update__"
TASK_EVENT = "__graphpool_task_event__"
RETURN = "__return__"


def _sink(dispatcher: Any, *modes: str) -> Any:
    sink = dispatcher.services.sink
    if sink is None or not any(m in dispatcher.run.modes for m in modes):
        return None
    return sink


def started(dispatcher: Any, ident: str, name: str, args: Any, kwargs: Any) -> None:
    """A call is starting."""
    sink = _sink(dispatcher, "tasks", "debug")
    if sink is not None:
        payload = {"id": ident, "name": name, "input": (args, kwargs)}
        sink.push("custom", (TASK_EVENT, {**payload, "triggers": ("__pregel_push",)}))


def ended(
    dispatcher: Any,
    ident: str,
    name: str,
    value: Any = None,
    error: BaseException | None = None,
    interrupts: tuple[Any, ...] = (),
) -> None:
    """A call finished with ``value``, failed with ``error`` or paused."""
    if error is None and not interrupts:
        sink = _sink(dispatcher, "updates")
        if sink is not None:
            sink.push("custom", (UPDATE, {name: value}))
    sink = _sink(dispatcher, "tasks", "debug")
    if sink is not None:
        result = {RETURN: value} if error is None and not interrupts else None
        payload = {"id": ident, "name": name, "error": error, "result": result}
        sink.push("custom", (TASK_EVENT, {**payload, "interrupts": list(interrupts)}))
