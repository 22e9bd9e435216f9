"""``graphpool serve`` started as a subprocess on 127.0.0.1, for the SDK contract tests.

One server per test session (``server``), serving ``app/langgraph.json``'s graphs
with a throwaway SQLite file; it is stopped by its pid at the end, whatever the
tests did. ``serve()`` starts more (with a token, say) for one module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
pytest.importorskip("langgraph_sdk")

from graphpool.server._sqlite import SqliteStorage
from graphpool.server._storage import Storage

APP = Path(__file__).parent / "app"
SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(
    tmp: Path,
    port: int,
    database: Path | str,
    *extra: str,
    env: dict[str, str] | None = None,
    config: str = "langgraph.json",
) -> subprocess.Popen[bytes]:
    """Start ``graphpool serve`` (``config``: a file in ``app/``) and wait until it
    answers ``/ok``."""
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join([str(SRC), environ.get("PYTHONPATH", "")])
    environ.setdefault("GRAPHPOOL_TEST_NAP", "0.5")
    environ.setdefault("GRAPHPOOL_TEST_DIR", str(tmp))
    log_path = tmp / f"serve-{port}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "graphpool", "serve", "--config", str(APP / config),
             "--port", str(port), "--database", str(database), *extra],
            stdout=log, stderr=subprocess.STDOUT, env=environ, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise AssertionError(log_path.read_text())
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/ok", timeout=1).status_code == 200:
                return process
        if time.monotonic() > deadline:
            stop(process)
            raise AssertionError("graphpool serve did not answer /ok in 30 s")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop the server by its pid (SIGKILL if it does not go in 10 s)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, sig)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


def stream_crash_run(client: Any, thread_id: str) -> Iterator[Any]:
    """A resumable ``updates`` stream of a run of the ``crash`` test graph, saving
    every step (the recovery and failover tests kill its server mid-run)."""
    return client.runs.stream(
        thread_id,
        "crash",
        input={"items": []},
        stream_mode="updates",
        stream_resumable=True,
        durability="sync",
    )


@contextlib.contextmanager
def serve(
    tmp: Path, *extra: str, env: dict[str, str] | None = None, database: str | None = None
) -> Iterator[str]:
    """Run ``graphpool serve`` until the block ends (on ``database``, by default a new
    SQLite file); yields its base URL."""
    port = free_port()
    process = start(tmp, port, database or tmp / f"serve-{port}.db", *extra, env=env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="session")
def server_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session server's directory: its database, log, and the test graphs' files."""
    return tmp_path_factory.mktemp("serve")


@pytest.fixture(scope="session")
def server(server_dir: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of a ``graphpool serve`` shared by the session's tests: on a
    SQLite file, or with ``GRAPHPOOL_TEST_SERVE_DB=postgres`` on a PostgreSQL database
    (the contract tests then run against the PostgreSQL mode)."""
    if os.environ.get("GRAPHPOOL_TEST_SERVE_DB") != "postgres":
        with serve(server_dir) as url:
            yield url
        return
    for database in fresh_database(request.getfixturevalue("postgres_url")):
        with serve(server_dir, database=database) as url:
            yield url


@pytest.fixture
def client(server: str):  # type: ignore[no-untyped-def]
    from langgraph_sdk import get_sync_client

    made = get_sync_client(url=server)
    yield made
    made.http.client.close()


def fresh_database(postgres_url: str) -> Iterator[str]:
    """A new, empty database on the session's throwaway PostgreSQL (tests/conftest.py's
    ``postgres_url``): its URL, and the database dropped afterwards."""
    import psycopg

    name = f"gp_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (see :func:`fresh_database`)."""
    yield from fresh_database(postgres_url)


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The server's storage on each database, empty; closed after the test."""
    made: Storage
    if request.param == "sqlite":
        made = SqliteStorage(str(tmp_path / "serve.db"))
    else:
        from graphpool.server._postgres import PostgresStorage

        made = PostgresStorage(request.getfixturevalue("pg_database"))
    yield made
    made.close()


# -- langgraph dev as the reference (tests/server/test_reference.py) ----------------

LANGGRAPH_CLI = Path(
    os.environ.get("GRAPHPOOL_LANGGRAPH_CLI")
    or Path(__file__).resolve().parents[2] / ".venv-lgdev" / "bin" / "langgraph"
)
REFERENCE_GRAPHS = ("chain", "ask", "slow", "fail", "nested", "ctx")


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``langgraph dev`` serving the same graphs built with LangGraph.

    Its CLI comes from a separate venv with ``langgraph-cli[inmem]`` (by default
    ``.venv-lgdev`` at the repository's root; ``$GRAPHPOOL_LANGGRAPH_CLI`` names
    another); without one the tests that need it are skipped.
    """
    if not LANGGRAPH_CLI.exists():
        pytest.skip(f"langgraph dev is not installed ({LANGGRAPH_CLI} not found)")
    import json
    import shutil

    folder = tmp_path_factory.mktemp("lgdev")
    shutil.copy(APP / "graphs.py", folder / "graphs.py")
    config = {
        "dependencies": ["."],
        "graphs": {name: f"./graphs.py:{name}" for name in REFERENCE_GRAPHS},
        "env": {"GRAPHPOOL_TEST_GREETING": "hello", "GRAPHPOOL_TEST_LIBRARY": "langgraph"},
    }
    (folder / "langgraph.json").write_text(json.dumps(config))
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    environ.update(
        GRAPHPOOL_TEST_LIBRARY="langgraph",
        GRAPHPOOL_TEST_NAP="0.5",
        GRAPHPOOL_TEST_DIR=str(folder),
        LANGSMITH_TRACING="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
    )
    port = free_port()
    with open(folder / "server.log", "ab") as log:
        process = subprocess.Popen(
            [str(LANGGRAPH_CLI), "dev", "--config", "langgraph.json", "--host", "127.0.0.1",
             "--port", str(port), "--no-browser", "--no-reload"],
            cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=environ,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail((folder / "server.log").read_text()[-3000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/ok", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail("langgraph dev did not answer /ok in 60 s")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
