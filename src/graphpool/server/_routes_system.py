"""``/ok``, ``/info`` and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._version import __version__
from ._http import json_response
from ._runtime import Runtime

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

__all__ = ["routes"]

_STATUSES = ("pending", "running", "success", "error", "interrupted", "timeout")


async def ok(request: Request) -> Response:
    return json_response({"ok": True})


async def info(request: Request) -> Response:
    return json_response(
        {
            "version": __version__,
            "graphpool_version": __version__,
            "flags": {"assistants": True, "crons": True, "langsmith": False},
            "metadata": {},
        }
    )


async def metrics(request: Request) -> Response:
    """Runs by status and threads by status (from the database), and runs running here."""
    from starlette.responses import PlainTextResponse

    runtime: Runtime = request.app.state.runtime
    runs = runtime.storage.status_counts("gp_runs")
    threads = runtime.storage.status_counts("gp_threads")
    lines = [
        "# HELP graphpool_serve_runs Runs in the database, by status.",
        "# TYPE graphpool_serve_runs gauge",
        *(f'graphpool_serve_runs{{status="{s}"}} {runs.get(s, 0)}' for s in _STATUSES),
        "# HELP graphpool_serve_threads Threads in the database, by status.",
        "# TYPE graphpool_serve_threads gauge",
        *(
            f'graphpool_serve_threads{{status="{s}"}} {threads.get(s, 0)}'
            for s in ("idle", "busy", "interrupted", "error")
        ),
        "# HELP graphpool_serve_running_here Runs this process is running now.",
        "# TYPE graphpool_serve_running_here gauge",
        f"graphpool_serve_running_here {len(request.app.state.worker.running)}",
        "# HELP graphpool_serve_queue_limit Most runs waiting before new ones get 503.",
        "# TYPE graphpool_serve_queue_limit gauge",
        f"graphpool_serve_queue_limit {runtime.queue.max_pending}",
    ]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


def routes() -> list[Route]:
    from starlette.routing import Route

    return [
        Route("/ok", ok, methods=["GET"]),
        Route("/info", info, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
