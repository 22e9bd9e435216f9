"""``/runs/crons``: runs on a schedule (see ``_crons`` for the scheduler)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from ._admission import check_run
from ._crons import CronTable, new_cron, schedule_next
from ._errors import ApiError, not_found
from ._http import Body, json_response, read_body
from ._json import now
from ._runtime import Runtime

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

__all__ = ["routes"]


def _rt(request: Request) -> tuple[Runtime, CronTable]:
    return request.app.state.runtime, request.app.state.crons


async def create(request: Request) -> Response:
    rt, crons = _rt(request)
    thread_id = request.path_params.get("thread_id")
    body = Body(await read_body(request))
    assistant_id = body.get("assistant_id", str)
    if assistant_id is None:
        raise ApiError(422, "assistant_id: required")
    assistant = rt.assistant(assistant_id)
    if thread_id is not None:
        rt.thread(thread_id)
    body.get("timezone", str)
    body.get("enabled", bool)
    body.choice("on_run_completed", ("delete", "keep"))
    check_run(body.data, stateless=thread_id is None)
    cron = new_cron(body.data, assistant["assistant_id"], thread_id)
    return json_response(crons.put(cron))


async def update(request: Request) -> Response:
    _, crons = _rt(request)
    cron = crons.get(request.path_params["cron_id"])
    if cron is None:
        raise not_found("Cron", request.path_params["cron_id"])
    body = Body(await read_body(request))
    changes: dict[str, Any] = {}
    for name in ("schedule", "timezone", "on_run_completed"):
        if body.get(name, str) is not None:
            changes[name] = body.data[name]
    if body.get("enabled", bool) is not None:
        changes["enabled"] = body.data["enabled"]
    if body.get("metadata", dict) is not None:
        changes["metadata"] = body.data["metadata"]
    if "end_time" in body.data:
        changes["end_time"] = new_cron(
            {"schedule": "* * * * *", "end_time": body.data["end_time"]}, "", None
        )["end_time"]
    run_fields = {
        k: v
        for k, v in body.data.items()
        if k not in ("schedule", "timezone", "on_run_completed", "enabled", "metadata", "end_time")
    }
    payload = {**cron["payload"], **run_fields}
    check_run(payload, stateless=cron["thread_id"] is None)
    updated = {**cron, **changes, "payload": payload, "updated_at": now()}
    updated["next_run_date"] = schedule_next(updated, datetime.datetime.now(datetime.timezone.utc))
    return json_response(crons.put(updated))


async def delete(request: Request) -> Response:
    _, crons = _rt(request)
    if not crons.delete(request.path_params["cron_id"]):
        raise not_found("Cron", request.path_params["cron_id"])
    return json_response(None, 204)


def _search_fields(body: Body) -> dict[str, Any]:
    return {
        "assistant_id": body.get("assistant_id", str),
        "thread_id": body.get("thread_id", str),
        "enabled": body.get("enabled", bool),
    }


async def search(request: Request) -> Response:
    _, crons = _rt(request)
    body = Body(await read_body(request))
    found = crons.search(
        **_search_fields(body),
        limit=body.count("limit", 10),
        offset=body.count("offset", 0, most=10**9),
    )
    return json_response(found)


async def count(request: Request) -> Response:
    _, crons = _rt(request)
    body = Body(await read_body(request))
    return json_response(crons.search(**_search_fields(body), count=True))


def routes() -> list[Route]:
    from starlette.routing import Route

    return [
        Route("/runs/crons", create, methods=["POST"]),
        Route("/runs/crons/search", search, methods=["POST"]),
        Route("/runs/crons/count", count, methods=["POST"]),
        Route("/runs/crons/{cron_id}", update, methods=["PATCH"]),
        Route("/runs/crons/{cron_id}", delete, methods=["DELETE"]),
        Route("/threads/{thread_id}/runs/crons", create, methods=["POST"]),
    ]
