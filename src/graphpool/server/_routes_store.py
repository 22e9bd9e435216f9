"""``/store``: the long-term store (graphpool's ``SqliteStore``) over HTTP."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ..errors import GraphpoolError
from ._errors import ApiError
from ._http import Body, json_response, read_body
from ._runtime import Runtime

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

__all__ = ["routes"]


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _namespace(body: Body, name: str, *, required: bool = True) -> tuple[str, ...]:
    value = body.strings(name)
    if value is None:
        if required:
            raise ApiError(422, f"{name}: required (an array of strings)")
        return ()
    return tuple(value)


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a store call off the event loop; the store's own errors become 422."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except GraphpoolError as exc:
        raise ApiError(422, str(exc)) from None


async def put_item(request: Request) -> Response:
    body = Body(await read_body(request))
    namespace = _namespace(body, "namespace")
    key = body.get("key", str)
    if key is None:
        raise ApiError(422, "key: required")
    value = body.get("value", dict)
    if value is None:
        raise ApiError(422, "value: required (an object)")
    index = body.data.get("index")
    if index is not None and index is not False and not isinstance(index, list):
        raise ApiError(422, "index: must be false or an array of field paths")
    options: dict[str, Any] = {}
    if index is not None:
        options["index"] = index
    ttl = body.get("ttl", float)
    if ttl is not None:
        options["ttl"] = ttl
    await _call(_rt(request).store.put, namespace, key, value, **options)
    return json_response(None, 204)


async def get_item(request: Request) -> Response:
    query = request.query_params
    key = query.get("key")
    if not key:
        raise ApiError(422, "key: required")
    namespace = tuple(query.get("namespace", "").split(".")) if query.get("namespace") else ()
    refresh = query.get("refresh_ttl", "true").lower() not in ("false", "0")
    item = await _call(_rt(request).store.get, namespace, key, refresh_ttl=refresh)
    if item is None:
        raise ApiError(404, f"Item {key!r} not found in namespace {list(namespace)}")
    return json_response(item.dict())


async def delete_item(request: Request) -> Response:
    body = Body(await read_body(request))
    namespace = _namespace(body, "namespace")
    key = body.get("key", str)
    if key is None:
        raise ApiError(422, "key: required")
    await _call(_rt(request).store.delete, namespace, key)
    return json_response(None, 204)


async def search(request: Request) -> Response:
    body = Body(await read_body(request))
    items = await _call(
        _rt(request).store.search,
        _namespace(body, "namespace_prefix", required=False),
        query=body.get("query", str),
        filter=body.get("filter", dict),
        limit=body.count("limit", 10),
        offset=body.count("offset", 0, most=10**9),
        refresh_ttl=body.get("refresh_ttl", bool),
    )
    return json_response({"items": [item.dict() for item in items]})


async def namespaces(request: Request) -> Response:
    body = Body(await read_body(request))
    found = await _call(
        _rt(request).store.list_namespaces,
        prefix=body.strings("prefix"),
        suffix=body.strings("suffix"),
        max_depth=body.get("max_depth", int),
        limit=body.count("limit", 100),
        offset=body.count("offset", 0, most=10**9),
    )
    return json_response({"namespaces": [list(ns) for ns in found]})


def routes() -> list[Route]:
    from starlette.routing import Route

    return [
        Route("/store/items", put_item, methods=["PUT"]),
        Route("/store/items", get_item, methods=["GET"]),
        Route("/store/items", delete_item, methods=["DELETE"]),
        Route("/store/items/search", search, methods=["POST"]),
        Route("/store/namespaces", namespaces, methods=["POST"]),
    ]
