"""The ASGI application: routes, bearer-token auth, errors as JSON, and the worker's life.

Every endpoint but the health check (``/ok``) refuses a request without the token,
when one is set: ``Authorization: Bearer <token>``, or ``x-api-key: <token>`` as
``langgraph_sdk.get_client(api_key=...)`` sends it.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from .._compiled import CompiledStateGraph
from ._crons import CronTable, Scheduler
from ._errors import ApiError
from ._follow import stop_following
from ._http import json_response
from ._runtime import Runtime
from ._worker import Worker

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["create_app"]

log = logging.getLogger("graphpool.server")

OPEN_PATHS = frozenset({"/ok"})


class BearerAuth:
    """ASGI middleware: a request without the token gets 401 (except ``OPEN_PATHS``)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": "missing or wrong token"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope: Mapping[str, Any]) -> bool:
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
            elif name == b"x-api-key":
                given = value.strip()
        return bool(given) and hmac.compare_digest(given, self.token)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response({"detail": exc.message}, exc.status, exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return json_response({"detail": f"{type(exc).__name__}: {exc}"}, 500)


def create_app(
    graphs: Mapping[str, CompiledStateGraph],
    database: str,
    *,
    concurrency: int = 64,
    max_queue: int = 10_000,
    per_assistant: int | None = None,
    store: Mapping[str, Any] | None = None,
    auth_token: str | None = None,
    lease_seconds: float = 30.0,
) -> Starlette:
    """The server's ASGI app for ``graphs``, keeping everything in ``database`` (a
    SQLite file, or a ``postgresql://`` URL that several servers share); runs at most
    ``concurrency`` runs at once, and answers 503 to new runs while ``max_queue``
    wait; ``per_assistant``: most runs of one assistant at once; ``lease_seconds``:
    how long a run stays with a server that stopped renewing its lease."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from . import (
        _routes_assistants,
        _routes_crons,
        _routes_runs,
        _routes_store,
        _routes_system,
        _routes_threads,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime = Runtime(
            graphs, database, max_queue=max_queue, per_assistant=per_assistant, store=store
        )
        worker = Worker(runtime, concurrency, lease_seconds)
        crons = CronTable(runtime.storage)
        scheduler = Scheduler(runtime, crons, worker)
        app.state.runtime = runtime
        app.state.worker = worker
        app.state.crons = crons
        worker.start()
        scheduler.start()
        try:
            yield
        finally:
            await scheduler.stop()
            await stop_following()
            await worker.stop()
            runtime.close()

    routes = [
        *_routes_system.routes(),
        *_routes_assistants.routes(),
        *_routes_threads.routes(),
        *_routes_crons.routes(),
        *_routes_runs.routes(),
        *_routes_store.routes(),
    ]
    middleware = [Middleware(BearerAuth, token=auth_token)] if auth_token else []
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, Exception: _internal_error},
    )
