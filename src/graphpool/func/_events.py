"""What a task call tells the run's streams: its update, and its start and end events.

The chunks go on the run's sink, which a run has when it streams ``custom`` or
``messages`` (an entrypoint's stream always asks for ``custom`` underneath, see
:class:`~graphpool.func._stream.Chunks`), and come out in the caller's modes:

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
    sink, modes = dispatcher.services.sink, dispatcher.run.modes
    if sink is None:
        return
    if "tasks" in modes:
        sink.push("tasks", payload)
    if "debug" in modes:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
        step = dispatcher.run.step
        sink.push("debug", {"step": step, "timestamp": stamp, "type": kind, "payload": payload})


def started(dispatcher: Any, ident: str, name: str, args: Any, kwargs: Any) -> None:
    """A call is starting."""
    payload = {"id": ident, "name": name, "input": (args, kwargs)}
    _push(dispatcher, "task", {**payload, "triggers": ("__pregel_push",)})


def ended(
    dispatcher: Any,
    ident: str,
    name: str,
    value: Any = None,
    error: BaseException | None = None,
    interrupts: tuple[Any, ...] = (),
) -> None:
    """A call finished with ``value``, failed with ``error`` or paused."""
    done = error is None and not interrupts
    sink = dispatcher.services.sink
    if done and sink is not None and "updates" in dispatcher.run.modes:
        sink.push("updates", {name: value})
    result = {RETURN: value} if done else None
    payload = {"id": ident, "name": name, "error": error, "result": result}
    _push(dispatcher, "task_result", {**payload, "interrupts": list(interrupts)})
