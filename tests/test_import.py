"""``import graphpool`` stays light: the optional and heavy parts load when used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "asyncio",
    "multiprocessing",
    "ray",
    "pebble",
    "cloudpickle",
    "langchain_core",
    "graphpool.checkpoint.base",
    "graphpool._pool._process",
    "graphpool._pool._ray",
    "graphpool._pool._async",
    "graphpool._trace",
    "decimal",
    "sqlite3",
)


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_import_graphpool_loads_none_of_the_heavy_parts() -> None:
    assert _loaded_after("import graphpool") & set(HEAVY) == set()


def test_a_sync_thread_graph_runs_without_asyncio_or_the_store() -> None:
    code = (
        "import graphpool\n"
        "from typing_extensions import TypedDict\n"
        "class S(TypedDict):\n    x: int\n    y: int\n"
        "b = graphpool.StateGraph(S)\n"
        "b.add_node('a', lambda s: {'x': s['x'] + 1})\n"
        "b.add_node('b', lambda s: {'y': s['x'] + 1})\n"
        "b.add_edge(graphpool.START, 'a')\n"
        "b.add_edge(graphpool.START, 'b')\n"
        "b.compile().invoke({'x': 0})\n"
    )
    loaded = _loaded_after(code)
    assert {"asyncio", "graphpool.checkpoint.base", "multiprocessing"} & loaded == set()


def test_lazy_names_are_still_there() -> None:
    loaded = _loaded_after(
        "import graphpool\n"
        "assert graphpool.ProcessPool.kind == 'process'\n"
        "assert graphpool.AsyncPool.kind == 'async'\n"
        "assert callable(graphpool.serve_metrics) and graphpool.Trace\n"
        "from graphpool.checkpoint import InMemorySaver, SqliteSaver\n"
    )
    assert "graphpool._pool._process" in loaded
