"""``graphpool serve``: the subcommand's arguments, and starting uvicorn."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ._dialect import is_postgres

__all__ = ["add_serve_command"]

TOKEN_ENV = "GRAPHPOOL_SERVE_TOKEN"


def add_serve_command(commands: Any) -> None:
    """Register ``serve`` on the ``graphpool`` command's subparsers."""
    serve = commands.add_parser(
        "serve", help="serve langgraph.json's graphs over LangGraph's HTTP API (graphpool[server])"
    )
    serve.add_argument("--config", default="langgraph.json", help="langgraph.json (default)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=2024, help="port (default 2024)")
    serve.add_argument(
        "--database",
        help="where assistants, threads, runs, checkpoints and the store live: a SQLite "
        "file (default .graphpool/serve.db next to the config), or postgresql://... "
        "for a database that several servers share (graphpool[postgres])",
    )
    serve.add_argument(
        "--workers", type=int, default=64, help="most runs at once in this process (64)"
    )
    serve.add_argument(
        "--max-queue",
        type=int,
        default=10_000,
        help="most runs waiting; past it new runs get 503 with Retry-After (10000)",
    )
    serve.add_argument(
        "--per-assistant",
        type=int,
        help="most runs of one assistant at once (default: no limit but --workers)",
    )
    serve.add_argument(
        "--lease-seconds",
        type=float,
        default=30.0,
        help="a run's lease: renewed every third of it; when the server holding it stops "
        "renewing it (it died), another takes the run over (30)",
    )
    serve.add_argument(
        "--auth-token",
        default=os.environ.get(TOKEN_ENV),
        help=f"require this bearer token on every endpoint but /ok (or ${TOKEN_ENV})",
    )
    serve.set_defaults(handler=_serve)


def _database(args: argparse.Namespace, root: Path) -> str:
    url: str | None = args.database
    if url is None:
        (root / ".graphpool").mkdir(exist_ok=True)
        return str(root / ".graphpool" / "serve.db")
    if is_postgres(url):
        return url
    return url.removeprefix("sqlite:///")


def _serve(args: argparse.Namespace) -> int:
    from ..errors import InvalidConfigError
    from ._deps import require_server_deps

    require_server_deps(postgres=bool(args.database) and is_postgres(args.database))
    import uvicorn

    from ._app import create_app
    from ._config import load_config, load_graph

    try:
        config = load_config(args.config)
        os.environ.update(config.env)
        graphs = {name: load_graph(spec, config.root) for name, spec in config.graphs.items()}
    except InvalidConfigError as exc:
        print(f"graphpool serve: {exc}", file=sys.stderr)
        return 2
    app = create_app(
        graphs,
        _database(args, config.root),
        concurrency=max(1, args.workers),
        max_queue=max(1, args.max_queue),
        per_assistant=max(1, args.per_assistant) if args.per_assistant else None,
        store=config.store,
        auth_token=args.auth_token or None,
        lease_seconds=max(0.5, args.lease_seconds),
    )
    logging.getLogger("graphpool.server").info("serving %s", ", ".join(graphs))
    print(f"graphpool serve: {', '.join(graphs)} on http://{args.host}:{args.port}", flush=True)
    # what is loaded by now (the graphs, the web stack) lives as long as the server: the
    # collector's full passes skip it (they stalled every stream for ~40 ms under load)
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
