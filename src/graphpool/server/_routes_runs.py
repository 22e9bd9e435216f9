"""``/runs`` and ``/threads/{id}/runs``: admit a run, then stream, wait, join or cancel it.

A run is admitted (committed to the queue) before any reply; the worker takes it
from there. Stateless runs (no thread in the path) get a thread of their own,
deleted when the run ends unless ``on_completion="keep"``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ._admission import admit_run_async, cancel_run
from ._errors import ApiError, not_found
from ._follow import follow
from ._http import Body, json_response, read_body
from ._queue import FINAL
from ._runtime import Runtime
from ._sse import EventStream, event_stream, resume_index

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

__all__ = ["routes"]


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _admit(request: Request, thread_id: str | None, data: Any = None) -> dict[str, Any]:
    body = await read_body(request) if data is None else data
    return await admit_run_async(_rt(request), request.app.state.worker, thread_id, body)


def _cancel(request: Request, run_id: str, *, rollback: bool = False) -> None:
    cancel_run(_rt(request), request.app.state.worker, run_id, rollback=rollback)


def _location(run: dict[str, Any], stateless: bool) -> dict[str, str]:
    if stateless:
        return {"Content-Location": f"/runs/{run['run_id']}"}
    return {"Content-Location": f"/threads/{run['thread_id']}/runs/{run['run_id']}"}


async def _finished(request: Request, run_id: str) -> dict[str, Any] | None:
    """Wait for the run to end; its record (None if it was deleted)."""
    rt = _rt(request)
    events = follow(rt, request.app.state.worker, run_id)
    if events is not None:
        await events.finished()
    while True:
        run = rt.storage.get_run(run_id)
        if run is None or run["status"] in FINAL:
            return run
        await asyncio.sleep(0.05)


async def _result(request: Request, run_id: str, thread_id: str) -> Any:
    rt = _rt(request)
    await _finished(request, run_id)
    events = rt.broker.get(run_id)
    result = events.result if events is not None else rt.storage.run_result(run_id)
    if result is None:
        thread = rt.storage.get_thread(thread_id)
        result = thread["values"] if thread else None
    return result


async def create(request: Request) -> Response:
    thread_id = request.path_params.get("thread_id")
    run = await _admit(request, thread_id)
    return json_response(run, headers=_location(run, thread_id is None))


async def create_batch(request: Request) -> Response:
    payloads = await read_body(request, array=True)
    runs = []
    for index, payload in enumerate(payloads):
        if not isinstance(payload, dict):
            raise ApiError(422, f"[{index}]: must be an object")
        runs.append(await _admit(request, None, payload))
    return json_response(runs)


async def stream(request: Request) -> Response | EventStream:
    rt = _rt(request)
    thread_id = request.path_params.get("thread_id")
    run = await _admit(request, thread_id)
    if run["run_id"] in request.app.state.worker.running:
        # begun as it was admitted: its task takes its first step (its first events)
        # before the reply starts, which then sends them at once, a loop round sooner
        await asyncio.sleep(0)
    events = follow(rt, request.app.state.worker, run["run_id"]) or rt.broker.open(run["run_id"])

    async def disconnected() -> None:
        _cancel(request, run["run_id"])

    cancel = run["kwargs"]["on_disconnect"] == "cancel"
    headers = _location(run, thread_id is None)
    if thread_id is not None:
        headers["Location"] = f"/threads/{thread_id}/runs/{run['run_id']}/stream"
    return event_stream(events, headers=headers, on_disconnect=disconnected if cancel else None)


async def wait(request: Request) -> Response:
    thread_id = request.path_params.get("thread_id")
    run = await _admit(request, thread_id)
    result = await _result(request, run["run_id"], run["thread_id"])
    return json_response(result, headers=_location(run, thread_id is None))


def _run(request: Request) -> dict[str, Any]:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    run_id = request.path_params["run_id"]
    run = rt.storage.get_run(run_id, thread_id)
    if run is None:
        raise not_found("Run", run_id)
    return run


async def get(request: Request) -> Response:
    return json_response(_run(request))


async def list_runs(request: Request) -> Response:
    rt = _rt(request)
    thread_id = request.path_params["thread_id"]
    rt.thread(thread_id)
    query = request.query_params
    try:
        limit, offset = int(query.get("limit", 10)), int(query.get("offset", 0))
    except ValueError:
        raise ApiError(422, "limit, offset: must be integers") from None
    return json_response(
        rt.storage.list_runs(thread_id, limit=limit, offset=offset, status=query.get("status"))
    )


async def delete(request: Request) -> Response:
    rt = _rt(request)
    run = _run(request)
    if run["status"] not in FINAL:
        raise ApiError(409, f"Run {run['run_id']!r} is {run['status']}: cancel it first")
    rt.storage.delete_run(run["run_id"])
    return json_response(None, 204)


async def cancel(request: Request) -> Response:
    run = _run(request)
    action = request.query_params.get("action", "interrupt")
    if action not in ("interrupt", "rollback"):
        raise ApiError(422, "action: must be 'interrupt' or 'rollback'")
    if run["status"] not in FINAL:
        _cancel(request, run["run_id"], rollback=action == "rollback")
    if request.query_params.get("wait") in ("1", "true"):
        await _finished(request, run["run_id"])
    return json_response(None, 202)


async def cancel_many(request: Request) -> Response:
    rt = _rt(request)
    body = Body(await read_body(request))
    thread_id = body.get("thread_id", str)
    run_ids = body.strings("run_ids") or []
    status = body.choice("status", ("pending", "running", "all"))
    if thread_id and not run_ids:
        run_ids = [r["run_id"] for r in rt.storage.active_runs(thread_id)]
    if status and not run_ids:
        raise ApiError(422, "status: cancelling by status alone is not supported yet")
    for run_id in run_ids:
        _cancel(request, run_id)
    return json_response(None, 204)


async def join(request: Request) -> Response:
    run = _run(request)
    return json_response(await _result(request, run["run_id"], run["thread_id"]))


async def join_stream(request: Request) -> Response | EventStream:
    rt = _rt(request)
    run = _run(request)
    events = follow(rt, request.app.state.worker, run["run_id"])
    if events is None:  # not run here since this server started: what was kept, if any
        events = rt.broker.open(run["run_id"])
        events.events.extend(rt.storage.run_events(run["run_id"]))
        if run["status"] in FINAL:
            rt.broker.close(run["run_id"])
    start = resume_index(request.headers.get("last-event-id"))
    return event_stream(events, start=start)


def routes() -> list[Route]:
    from starlette.routing import Route

    runs = "/threads/{thread_id}/runs"
    one = runs + "/{run_id}"
    return [
        Route("/runs", create, methods=["POST"]),
        Route("/runs/stream", stream, methods=["POST"]),
        Route("/runs/wait", wait, methods=["POST"]),
        Route("/runs/batch", create_batch, methods=["POST"]),
        Route("/runs/cancel", cancel_many, methods=["POST"]),
        Route(runs, create, methods=["POST"]),
        Route(runs, list_runs, methods=["GET"]),
        Route(runs + "/stream", stream, methods=["POST"]),
        Route(runs + "/wait", wait, methods=["POST"]),
        Route(one, get, methods=["GET"]),
        Route(one, delete, methods=["DELETE"]),
        Route(one + "/cancel", cancel, methods=["POST"]),
        Route(one + "/join", join, methods=["GET"]),
        Route(one + "/stream", join_stream, methods=["GET"]),
    ]
