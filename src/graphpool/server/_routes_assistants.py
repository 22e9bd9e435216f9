"""``/assistants``: a graph with its config; each served graph has a default one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import ApiError, not_found
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


def _fields(body: Body) -> dict[str, Any]:
    return {
        "config": body.get("config", dict),
        "context": body.get("context", dict),
        "metadata": body.get("metadata", dict),
        "name": body.get("name", str),
        "description": body.get("description", str),
    }


async def create(request: Request) -> Response:
    rt = _rt(request)
    body = Body(await read_body(request))
    graph_id = body.get("graph_id", str)
    if graph_id is None:
        raise ApiError(422, "graph_id: required")
    rt.graph(graph_id)
    if_exists = body.choice("if_exists", ("raise", "do_nothing"), "raise")
    assistant_id = body.get("assistant_id", str)
    if assistant_id and (found := rt.storage.get_assistant(assistant_id)) is not None:
        if if_exists == "do_nothing":
            return json_response(found)
        raise ApiError(409, f"Assistant {assistant_id!r} already exists")
    fields = {k: v for k, v in _fields(body).items() if v is not None}
    record = {"graph_id": graph_id, "assistant_id": assistant_id, **fields}
    return json_response(rt.storage.put_assistant(record))


async def get(request: Request) -> Response:
    return json_response(_rt(request).assistant(request.path_params["assistant_id"]))


async def patch(request: Request) -> Response:
    rt = _rt(request)
    found = rt.assistant(request.path_params["assistant_id"])
    body = Body(await read_body(request))
    graph_id = body.get("graph_id", str)
    if graph_id is not None:
        rt.graph(graph_id)
    changes = {k: v for k, v in _fields(body).items() if v is not None}
    if "metadata" in changes:
        changes["metadata"] = {**found["metadata"], **changes["metadata"]}
    record = {**found, **changes, "version": rt.storage.latest_version(found["assistant_id"]) + 1}
    if graph_id is not None:
        record["graph_id"] = graph_id
    return json_response(rt.storage.put_assistant(record))


async def delete(request: Request) -> Response:
    rt = _rt(request)
    assistant_id = request.path_params["assistant_id"]
    if not rt.storage.delete_assistant(assistant_id):
        raise not_found("Assistant", assistant_id)
    return json_response(None, 204)


async def search(request: Request) -> Response:
    body = Body(await read_body(request))
    found = _rt(request).storage.search_assistants(
        graph_id=body.get("graph_id", str),
        name=body.get("name", str),
        metadata=body.get("metadata", dict),
        limit=body.count("limit", 10),
        offset=body.count("offset", 0, most=10**9),
        sort_by=body.get("sort_by", str),
        sort_order=body.choice("sort_order", ("asc", "desc")),
    )
    return json_response(found)


async def count(request: Request) -> Response:
    body = Body(await read_body(request))
    return json_response(
        _rt(request).storage.count_assistants(
            graph_id=body.get("graph_id", str), metadata=body.get("metadata", dict)
        )
    )


async def graph(request: Request) -> Response:
    rt = _rt(request)
    assistant = rt.assistant(request.path_params["assistant_id"])
    return json_response(rt.graph(assistant["graph_id"]).get_graph().to_json())


async def schemas(request: Request) -> Response:
    rt = _rt(request)
    assistant = rt.assistant(request.path_params["assistant_id"])
    compiled = rt.graph(assistant["graph_id"])

    def attempt(make: Any) -> Any:
        try:
            return make()
        except Exception:  # no pydantic, or a schema it cannot describe
            return None

    from .._runnable import _json_schema

    builder = compiled.builder
    return json_response(
        {
            "graph_id": assistant["graph_id"],
            "input_schema": attempt(compiled.get_input_jsonschema),
            "output_schema": attempt(compiled.get_output_jsonschema),
            "state_schema": attempt(
                lambda: _json_schema(builder.state_schema, compiled.get_name("State"))
            ),
            "config_schema": None,
            "context_schema": attempt(compiled.get_context_jsonschema),
        }
    )


async def subgraphs(request: Request) -> Response:
    _rt(request).assistant(request.path_params["assistant_id"])
    return json_response({})


async def versions(request: Request) -> Response:
    rt = _rt(request)
    found = rt.assistant(request.path_params["assistant_id"])
    body = Body(await read_body(request))
    listed = rt.storage.assistant_versions(
        found["assistant_id"],
        metadata=body.get("metadata", dict),
        limit=body.count("limit", 10),
        offset=body.count("offset", 0, most=10**9),
    )
    return json_response(listed)


async def latest(request: Request) -> Response:
    """Make one of the assistant's versions its current one."""
    rt = _rt(request)
    found = rt.assistant(request.path_params["assistant_id"])
    body = Body(await read_body(request))
    version = body.get("version", int)
    if version is None:
        raise ApiError(422, "version: required")
    chosen = [
        v
        for v in rt.storage.assistant_versions(found["assistant_id"], limit=10**6)
        if v["version"] == version
    ]
    if not chosen:
        raise ApiError(404, f"version {version} of assistant {found['assistant_id']!r} not found")
    record = {**chosen[0], "created_at": found["created_at"]}
    return json_response(rt.storage.put_assistant(record))


def routes() -> list[Route]:
    from starlette.routing import Route

    one = "/assistants/{assistant_id}"
    return [
        Route("/assistants", create, methods=["POST"]),
        Route("/assistants/search", search, methods=["POST"]),
        Route("/assistants/count", count, methods=["POST"]),
        Route(one, get, methods=["GET"]),
        Route(one, patch, methods=["PATCH"]),
        Route(one, delete, methods=["DELETE"]),
        Route(one + "/graph", graph, methods=["GET"]),
        Route(one + "/schemas", schemas, methods=["GET"]),
        Route(one + "/subgraphs", subgraphs, methods=["GET"]),
        Route(one + "/subgraphs/{namespace}", subgraphs, methods=["GET"]),
        Route(one + "/versions", versions, methods=["POST"]),
        Route(one + "/latest", latest, methods=["POST"]),
    ]
