"""Admitting a run (validation, the thread, the queue) and cancelling one: shared by
the run routes and the cron scheduler."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Mapping
from typing import Any

from ._errors import ApiError
from ._events import API_MODES
from ._http import Body
from ._queue import Admission
from ._runtime import Runtime
from ._webhook import check_url
from ._worker import Worker

__all__ = ["admit_run", "admit_run_async", "cancel_run", "check_run"]

_STRATEGIES = ("reject", "enqueue", "interrupt", "rollback")
_UNSUPPORTED: tuple[str, ...] = ()


def _modes(body: Body) -> list[str]:
    modes = body.get("stream_mode", (str, list), "values")
    modes = [modes] if isinstance(modes, str) else modes
    for mode in modes:
        if mode not in API_MODES:
            raise ApiError(
                422, f"stream_mode: {mode!r} is not supported; choose from {sorted(API_MODES)}"
            )
    return list(dict.fromkeys(modes))


def _nodes(body: Body, name: str) -> Any:
    value = body.get(name, (str, list))
    if isinstance(value, str) and value != "*":
        raise ApiError(422, f"{name}: must be '*' or an array of node names")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise ApiError(422, f"{name}: must be '*' or an array of node names")
    return value


def _kwargs(body: Body, *, temporary: bool) -> dict[str, Any]:
    """The run's parameters, validated; what the worker reads back."""
    for name in _UNSUPPORTED:
        if body.data.get(name) is not None:
            raise ApiError(422, f"{name}: not supported by graphpool serve yet")
    command = body.get("command", dict)
    if command is not None:
        Body(command, "command.").get("goto", (str, list, dict))
    checkpoint = body.get("checkpoint", dict) or {}
    return {
        "input": body.data.get("input"),
        "command": command,
        "config": body.get("config", dict),
        "context": body.get("context", dict),
        "stream_mode": _modes(body),
        "subgraphs": body.get("stream_subgraphs", bool, False),
        "resumable": body.get("stream_resumable", bool, False),
        "interrupt_before": _nodes(body, "interrupt_before"),
        "interrupt_after": _nodes(body, "interrupt_after"),
        "checkpoint_id": body.get("checkpoint_id", str) or checkpoint.get("checkpoint_id"),
        "durability": body.choice("durability", ("sync", "async", "exit")),
        "on_disconnect": body.choice("on_disconnect", ("cancel", "continue"), "continue"),
        "on_completion": body.choice("on_completion", ("delete", "keep"), "delete"),
        "temporary": temporary,
        "webhook": check_url(body.get("webhook", str)) if body.get("webhook", str) else None,
    }


class _Request:
    """A validated run request: what admitting it writes."""

    def __init__(self, thread_id: str | None, data: Mapping[str, Any]) -> None:
        body = Body(data)
        assistant_id = body.get("assistant_id", str)
        if assistant_id is None:
            raise ApiError(422, "assistant_id: required")
        self.assistant_id = assistant_id
        self.thread_id = thread_id
        self.strategy = body.choice("multitask_strategy", _STRATEGIES, "enqueue")
        self.if_not_exists = body.choice("if_not_exists", ("reject", "create"), "reject")
        self.after = body.get("after_seconds", float, 0)
        self.kwargs = _kwargs(body, temporary=thread_id is None)
        self.metadata = body.get("metadata", dict) or {}
        self.run_id = str(uuid.uuid4())


def _commit(rt: Runtime, request: _Request) -> tuple[dict[str, Any] | None, Admission]:
    """The database half of admitting (no event-loop objects touched): the run as
    committed, or None if the queue refused it."""
    assistant = rt.assistant(request.assistant_id)
    tags = {"graph_id": assistant["graph_id"], "assistant_id": assistant["assistant_id"]}
    thread_id, new_thread = request.thread_id, None
    if thread_id is None:  # made with the run, in its transaction
        thread_id, new_thread = str(uuid.uuid4()), tags
    elif request.if_not_exists == "create" and not rt.storage.get_thread(thread_id):
        thread_id = rt.storage.create_thread(thread_id, tags)[0]["thread_id"]
    else:
        rt.thread(thread_id)
        rt.storage.update_thread(thread_id, metadata=tags)
    admission = rt.queue.admit(
        {
            "run_id": request.run_id,
            "thread_id": thread_id,
            "assistant_id": assistant["assistant_id"],
            "metadata": request.metadata,
            "kwargs": request.kwargs,
            "multitask_strategy": request.strategy,
            "temporary": request.thread_id is None,
            "available_at": time.time() + request.after if request.after else 0.0,
        },
        new_thread,
    )
    if not admission.admitted:
        return None, admission
    return rt.storage.get_run(request.run_id), admission


def _settle(
    rt: Runtime,
    worker: Worker,
    request: _Request,
    run: dict[str, Any] | None,
    admission: Admission,
) -> dict[str, Any]:
    """The event loop's half: refuse, or displace the thread's earlier runs."""
    if admission.full:
        rt.broker.close(request.run_id)
        raise ApiError(503, "the run queue is full; try again later", {"Retry-After": "1"})
    if run is None:
        rt.broker.close(request.run_id)
        raise ApiError(
            409, f"Thread {request.thread_id!r} is busy with a run (multitask_strategy=reject)"
        )
    for earlier in admission.interrupt:
        cancel_run(rt, worker, earlier, rollback=request.strategy == "rollback")
    return run


def admit_run(
    rt: Runtime, worker: Worker, thread_id: str | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate a run request, commit the run, and return it (the API's Run).

    Raises:
        ApiError: 422 a bad field; 404 no such assistant or thread; 409 a busy
            thread with ``multitask_strategy="reject"``; 503 the queue is full.
    """
    request = _Request(thread_id, data)
    rt.broker.open(request.run_id)
    try:
        run, admission = _commit(rt, request)
    except BaseException:
        rt.broker.close(request.run_id)
        raise
    return _settle(rt, worker, request, run, admission)


async def admit_run_async(
    rt: Runtime, worker: Worker, thread_id: str | None, data: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`admit_run` through ``Worker.admit``: the database work on the database
    thread (on SQLite, right here), and the run claimed with it if there is room."""
    request = _Request(thread_id, data)
    rt.broker.open(request.run_id)
    try:
        run, admission = await worker.admit(functools.partial(_commit, rt, request), request.run_id)
    except BaseException:
        rt.broker.close(request.run_id)
        raise
    return _settle(rt, worker, request, run, admission)


def cancel_run(rt: Runtime, worker: Worker, run_id: str, *, rollback: bool = False) -> None:
    """Stop a run: pending, it never starts; running here, it is cancelled; running
    on another server (PostgreSQL), that server is asked to cancel it.
    ``rollback``: the run and the checkpoints it made are deleted too."""
    if rt.queue.cancel_pending(run_id):
        rt.broker.close(run_id)
        if rollback:
            rt.storage.delete_run(run_id)
    elif not worker.cancel(run_id, rollback=rollback) and rt.shared:
        # running on another server: it reads the request (woken by NOTIFY)
        rt.queue.ask_cancel(run_id, "rollback" if rollback else "interrupt")


def check_run(data: Mapping[str, Any], *, stateless: bool) -> None:
    """Validate a run request's fields without admitting it (for crons).

    Raises:
        ApiError: 422 naming the bad field.
    """
    body = Body(data)
    body.choice("multitask_strategy", _STRATEGIES, "enqueue")
    _kwargs(body, temporary=stateless)
