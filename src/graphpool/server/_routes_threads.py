"""``/threads``: conversations, each with its checkpoints (state and history)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import GraphpoolError
from ..types import StateUpdate
from ._errors import ApiError
from ._follow import follow_thread
from ._http import Body, json_response, read_body
from ._json import plain
from ._runtime import Runtime
from ._saver_rows import copy_checkpoints, drop_checkpoints
from ._sse import EventStream, event_stream

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from ..types import StateSnapshot

__all__ = ["routes", "state_json"]

_STATUSES = ("idle", "busy", "interrupted", "error")


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _checkpoint(thread_id: str, config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    configurable = config.get("configurable") or {}
    return {
        "thread_id": thread_id,
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "checkpoint_map": configurable.get("checkpoint_map"),
    }


def state_json(thread_id: str, snapshot: StateSnapshot | None) -> dict[str, Any]:
    """A :class:`StateSnapshot` as the API's ThreadState (an empty one for None)."""
    if snapshot is None:
        return {
            "values": {},
            "next": [],
            "checkpoint": _checkpoint(thread_id, {"configurable": {}}),
            "metadata": {},
            "created_at": None,
            "parent_checkpoint": None,
            "tasks": [],
            "interrupts": [],
        }
    tasks = [
        {
            "id": task.id,
            "name": task.name,
            "error": None if task.error is None else str(task.error),
            "interrupts": plain(list(task.interrupts)),
            "checkpoint": None,
            "state": None,
            "result": plain(task.result),
        }
        for task in snapshot.tasks
    ]
    return {
        "values": plain(snapshot.values),
        "next": list(snapshot.next),
        "checkpoint": _checkpoint(thread_id, snapshot.config)
        or _checkpoint(thread_id, {"configurable": {}}),
        "metadata": plain(snapshot.metadata or {}),
        "created_at": snapshot.created_at,
        "parent_checkpoint": _checkpoint(thread_id, snapshot.parent_config),
        "tasks": tasks,
        "interrupts": plain(list(snapshot.interrupts)),
    }


async def create(request: Request) -> Response:
    rt = _rt(request)
    body = Body(await read_body(request))
    thread_id = body.get("thread_id", str)
    if_exists = body.choice("if_exists", ("raise", "do_nothing"), "raise")
    supersteps = _supersteps(body)
    metadata = body.get("metadata", dict) or {}
    graph = None
    if supersteps:
        graph_id = metadata.get("graph_id")
        if not isinstance(graph_id, str):
            raise ApiError(422, "supersteps: need the thread's graph_id (metadata.graph_id)")
        graph = rt.graph(graph_id)
    thread, created = rt.storage.create_thread(thread_id, metadata)
    if not created and if_exists == "raise":
        raise ApiError(409, f"Thread {thread_id!r} already exists")
    if created and graph is not None:
        config = _config(thread["thread_id"], None)
        try:
            await graph.abulk_update_state(config, supersteps)
        except GraphpoolError as exc:
            rt.storage.delete_thread(thread["thread_id"])
            rt.saver.delete_thread(thread["thread_id"])
            raise ApiError(422, f"supersteps: {exc}") from None
        thread = await _record_state(rt, graph, thread["thread_id"])
    return json_response(thread)


def _supersteps(body: Body) -> list[list[StateUpdate]]:
    """``supersteps``: ``[{"updates": [{"values": ..., "as_node": ...}]}]``, checked."""
    steps = body.get("supersteps", list) or []
    out = []
    for i, step in enumerate(steps):
        updates = step.get("updates") if isinstance(step, dict) else None
        if not isinstance(updates, list):
            raise ApiError(422, f"supersteps[{i}].updates: must be an array")
        made = []
        for j, update in enumerate(updates):
            where = f"supersteps[{i}].updates[{j}]."
            item = Body(update if isinstance(update, dict) else {}, where)
            if item.data.get("command") is not None:
                raise ApiError(422, f"{where}command: not supported by graphpool serve yet")
            made.append(StateUpdate(item.data.get("values"), item.get("as_node", str)))
        out.append(made)
    return out


async def _record_state(rt: Runtime, graph: Any, thread_id: str) -> dict[str, Any]:
    """Copy the thread's latest checkpoint (values, interrupts, status) to its record."""
    snapshot = await graph.aget_state(_config(thread_id, None))
    pending = {t.id: plain(list(t.interrupts)) for t in snapshot.tasks if t.interrupts}
    updated = rt.storage.update_thread(
        thread_id,
        values=plain(snapshot.values),
        interrupts=pending,
        status="interrupted" if snapshot.next or pending else "idle",
    )
    assert updated is not None
    return updated


async def get(request: Request) -> Response:
    return json_response(_rt(request).thread(request.path_params["thread_id"]))


async def patch(request: Request) -> Response:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    body = Body(await read_body(request))
    rt.thread(thread_id)
    return json_response(rt.storage.update_thread(thread_id, metadata=body.get("metadata", dict)))


async def delete(request: Request) -> Response:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    rt.thread(thread_id)
    _delete(request, thread_id)
    return json_response(None, 204)


def _delete(request: Request, thread_id: str) -> None:
    """Stop the thread's runs and delete it, its runs and its checkpoints."""
    rt = _rt(request)
    for run in rt.storage.active_runs(thread_id):
        if not rt.queue.cancel_pending(run["run_id"]):
            worker = request.app.state.worker
            if not worker.cancel(run["run_id"]) and rt.shared:
                rt.queue.ask_cancel(run["run_id"], "interrupt")
    rt.storage.delete_thread(thread_id)
    rt.saver.delete_thread(thread_id)


async def prune(request: Request) -> Response:
    """Delete threads, or (``keep_latest``) all but their latest checkpoints."""
    rt = _rt(request)
    body = Body(await read_body(request))
    thread_ids = body.strings("thread_ids")
    if thread_ids is None:
        raise ApiError(422, "thread_ids: required (an array of strings)")
    strategy = body.choice("strategy", ("delete", "keep_latest"), "delete")
    pruned = 0
    for thread_id in thread_ids:
        if rt.storage.get_thread(thread_id) is None:
            continue
        if strategy == "delete":
            _delete(request, thread_id)
        else:
            await asyncio.to_thread(_keep_latest, rt, thread_id)
        pruned += 1
    return json_response({"pruned_count": pruned})


def _keep_latest(rt: Runtime, thread_id: str) -> None:
    config = _config(thread_id, None)
    older = [saved.config["configurable"]["checkpoint_id"] for saved in rt.saver.list(config)][1:]
    drop_checkpoints(rt.storage, thread_id, older)


def _search_filters(body: Body) -> dict[str, Any]:
    return {
        "metadata": body.get("metadata", dict),
        "values": body.get("values", dict),
        "status": body.choice("status", _STATUSES),
    }


async def search(request: Request) -> Response:
    body = Body(await read_body(request))
    found = _rt(request).storage.search_threads(
        ids=body.strings("ids"),
        limit=body.count("limit", 10),
        offset=body.count("offset", 0, most=10**9),
        sort_by=body.get("sort_by", str),
        sort_order=body.choice("sort_order", ("asc", "desc")),
        **_search_filters(body),
    )
    return json_response(found)


async def count(request: Request) -> Response:
    body = Body(await read_body(request))
    return json_response(_rt(request).storage.count_threads(**_search_filters(body)))


async def copy(request: Request) -> Response:
    rt = _rt(request)
    source = rt.thread(request.path_params["thread_id"])
    new_id = str(uuid.uuid4())
    rt.storage.create_thread(new_id, source["metadata"])
    copy_checkpoints(rt.storage, source["thread_id"], new_id)
    status = "idle" if source["status"] == "busy" else source["status"]
    copied = rt.storage.update_thread(
        new_id, status=status, values=source["values"], interrupts=source["interrupts"]
    )
    return json_response(copied)


def _config(thread_id: str, checkpoint: Mapping[str, Any] | None) -> dict[str, Any]:
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint and checkpoint.get("checkpoint_id"):
        configurable["checkpoint_id"] = checkpoint["checkpoint_id"]
    return {"configurable": configurable}


async def _state(request: Request, checkpoint: Mapping[str, Any] | None) -> Response:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    thread = rt.thread(thread_id)
    graph = rt.thread_graph(thread)
    if graph is None:
        return json_response(state_json(thread_id, None))
    snapshot = await graph.aget_state(_config(thread_id, checkpoint))
    if checkpoint and checkpoint.get("checkpoint_id") and snapshot.metadata is None:
        raise ApiError(404, f"checkpoint {checkpoint['checkpoint_id']!r} not found")
    return json_response(state_json(thread_id, snapshot))


async def get_state(request: Request) -> Response:
    return await _state(request, None)


async def get_state_at(request: Request) -> Response:
    return await _state(request, {"checkpoint_id": request.path_params["checkpoint_id"]})


async def post_state_checkpoint(request: Request) -> Response:
    body = Body(await read_body(request))
    return await _state(request, body.get("checkpoint", dict))


async def update_state(request: Request) -> Response:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    thread = rt.thread(thread_id)
    body = Body(await read_body(request))
    graph = rt.thread_graph(thread)
    if graph is None:
        raise ApiError(409, f"Thread {thread_id!r} has no graph yet: run it first")
    if rt.storage.active_runs(thread_id):
        raise ApiError(409, f"Thread {thread_id!r} is busy with a run")
    checkpoint = body.get("checkpoint", dict) or {}
    if body.get("checkpoint_id", str):
        checkpoint = {"checkpoint_id": body.get("checkpoint_id", str)}
    config = _config(thread_id, checkpoint)
    try:
        saved = await graph.aupdate_state(config, body.data.get("values"), body.get("as_node", str))
    except GraphpoolError as exc:
        raise ApiError(422, str(exc)) from None
    await _record_state(rt, graph, thread_id)
    return json_response({"checkpoint": _checkpoint(thread_id, saved)})


async def history(request: Request) -> Response:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    thread = rt.thread(thread_id)
    body = Body(await read_body(request))
    limit = body.count("limit", 10)
    before = body.get("before", (dict, str))
    if isinstance(before, str):
        before = {"checkpoint_id": before}
    graph = rt.thread_graph(thread)
    if graph is None:
        return json_response([])
    states = [
        state_json(thread_id, snapshot)
        async for snapshot in graph.aget_state_history(
            _config(thread_id, body.get("checkpoint", dict)),
            filter=body.get("metadata", dict),
            before=_config(thread_id, before) if before else None,
            limit=limit,
        )
    ]
    return json_response(states)


async def stream(request: Request) -> Response | EventStream:
    """The events of the thread's runs as they come (``threads.join_stream``), until the
    client leaves; ``Last-Event-ID`` resumes within one connection's lifetime only."""
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    rt.thread(thread_id)
    channel = follow_thread(rt, thread_id)

    async def left() -> None:
        rt.broker.leave_thread(thread_id)

    return event_stream(channel, on_disconnect=left)


def routes() -> list[Route]:
    from starlette.routing import Route

    one = "/threads/{thread_id}"
    return [
        Route("/threads", create, methods=["POST"]),
        Route("/threads/search", search, methods=["POST"]),
        Route("/threads/count", count, methods=["POST"]),
        Route("/threads/prune", prune, methods=["POST"]),
        Route(one, get, methods=["GET"]),
        Route(one, patch, methods=["PATCH"]),
        Route(one, delete, methods=["DELETE"]),
        Route(one + "/copy", copy, methods=["POST"]),
        Route(one + "/state", get_state, methods=["GET"]),
        Route(one + "/state", update_state, methods=["POST"]),
        Route(one + "/state/checkpoint", post_state_checkpoint, methods=["POST"]),
        Route(one + "/state/{checkpoint_id}", get_state_at, methods=["GET"]),
        Route(one + "/history", history, methods=["POST"]),
        Route(one + "/history", history, methods=["GET"]),
        Route(one + "/stream", stream, methods=["GET"]),
    ]
