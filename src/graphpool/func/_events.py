"""What a task call tells the run's streams: its update, and its start and end events.

The chunks go on the run's sink (``Dispatcher.chunk_sink``: one is made on first
use when the run streams no ``custom`` or ``messages``), and come out in the
caller's modes:

* ``updates``: ``{name: result}`` as the call finishes;
* ``tasks`` and ``debug``: the call's start (its ``(args, kwargs)``, triggered by
  ``"__pregel_push"`` as LangGraph's pushed tasks are) and its end (its result
  as ``{"__return__": value}``, its error or its interrupts).
"""

from __future__ import annotations

import datetime
from typing import Any

__all__ = ["RETURN", "ended", "started"]

RETURN = "__return__"


def _push(dispatcher: Any, kind: str, payload: dict[str, Any]) -> None:
    modes = dispatcher.run.modes
    sink = dispatcher.chunk_sink()
    if "tasks" in modes:
        sink.push("tasks", payload)
    if "debug" in modes:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
        step = dispatcher.run.step
        sink.push("debug", {"step": step, "timestamp": stamp, "type": kind, "payload": payload})


def _told(modes: Any) -> bool:
    """Whether the run streams call events (a call's id is worked out only then)."""
    return "tasks" in modes or "debug" in modes


def started(call: Any, args: Any, kwargs: Any) -> None:
    """``call`` (with ``dispatcher``, ``id`` and ``name``) is starting."""
    if _told(call.dispatcher.run.modes):
        payload = {"id": call.id, "name": call.name, "input": (args, kwargs)}
        _push(call.dispatcher, "task", {**payload, "triggers": ("__pregel_push",)})


def ended(
    call: Any,
    value: Any = None,
    error: BaseException | None = None,
    interrupts: tuple[Any, ...] = (),
) -> None:
    """``call`` finished with ``value``, failed with ``error`` or paused."""
    dispatcher, name = call.dispatcher, call.name
    modes = dispatcher.run.modes
    done = error is None and not interrupts
    if done and "updates" in modes:
        dispatcher.chunk_sink().push("updates", {name: value})
    if _told(modes):
        result = {RETURN: value} if done else None
        payload = {"id": call.id, "name": name, "error": error, "result": result}
        _push(dispatcher, "task_result", {**payload, "interrupts": list(interrupts)})
