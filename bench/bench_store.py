"""Store and cache cost: graphpool's vs LangGraph's, per operation, one process.

For each store (in memory; SQLite on a temporary file): ``put`` of ``--items``
small documents into 10 namespaces, ``get`` of each, ``search`` of one namespace
(10 results, no filter), ``search`` with a filter on a string field (scanning
the namespace), and, with a 64-dimension vector index on ``text`` (a cheap,
deterministic embedding function, so the embedding itself costs little),
``search(query=...)``. For the caches (in memory): ``set`` and ``get`` of one
node result. Reported: microseconds per operation, best of ``--repeats``.

LangGraph's SQLite store ranks vectors in SQL with the sqlite-vec extension
(``n/a`` where this Python's ``sqlite3`` cannot load extensions); graphpool's
loads the namespace's vectors and ranks them in Python.

    python bench/bench_store.py [--items 2000] [--repeats 3] [--out bench/results/store.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from _common import publish

DIMS = 64


def embed(texts: list[str]) -> list[list[float]]:
    return [
        [((hash(w) >> i) & 7) + 0.1 for i in range(DIMS) for w in [t[i % len(t)]]] for t in texts
    ]


def stores(tmp: str, index: dict[str, Any] | None) -> list[tuple[str, Callable[[], Any]]]:
    from langgraph.store.memory import InMemoryStore as LgMemory
    from langgraph.store.sqlite import SqliteStore as LgSqlite

    from graphpool.store.memory import InMemoryStore
    from graphpool.store.sqlite import SqliteStore

    def lg_sqlite() -> Any:
        if index is not None and not hasattr(sqlite3.Connection, "enable_load_extension"):
            return None  # this Python's sqlite3 cannot load sqlite-vec
        conn = sqlite3.connect(
            os.path.join(tmp, f"lg-{time.monotonic_ns()}.db"),
            check_same_thread=False,
            isolation_level=None,
        )
        store = LgSqlite(conn, index=index)  # type: ignore[arg-type]
        store.setup()
        return store

    def gp_sqlite() -> Any:
        return SqliteStore(os.path.join(tmp, f"gp-{time.monotonic_ns()}.db"), index=index)

    return [
        ("LangGraph InMemoryStore", lambda: LgMemory(index=index)),  # type: ignore[arg-type]
        ("graphpool InMemoryStore", lambda: InMemoryStore(index=index)),  # type: ignore[arg-type]
        ("LangGraph SqliteStore", lg_sqlite),
        ("graphpool SqliteStore", gp_sqlite),
    ]


def timed(fn: Callable[[], Any], count: int) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) / count * 1e6


def run_store(make: Callable[[], Any], items: int, vector: bool) -> dict[str, float]:
    store = make()
    if store is None:
        return {}
    spaces = [("bench", f"ns{i}") for i in range(10)]
    docs = [
        (
            spaces[i % 10],
            f"k{i}",
            {"text": f"document {i} about topic {i % 7}", "topic": f"t{i % 7}", "n": i},
        )
        for i in range(items)
    ]
    out = {"put": timed(lambda: [store.put(ns, k, v) for ns, k, v in docs], items)}
    out["get"] = timed(lambda: [store.get(ns, k) for ns, k, _ in docs], items)
    searches = 200
    out["search"] = timed(lambda: [store.search(spaces[i % 10]) for i in range(searches)], searches)
    out["search filter"] = timed(
        lambda: [store.search(spaces[i % 10], filter={"topic": "t3"}) for i in range(searches)],
        searches,
    )
    if vector:
        out["search query"] = timed(
            lambda: [store.search(spaces[i % 10], query=f"topic {i % 7}") for i in range(50)], 50
        )
    return out


def run_caches(count: int) -> dict[str, dict[str, float]]:
    from langgraph.cache.memory import InMemoryCache as LgCache

    from graphpool.cache.memory import InMemoryCache

    ns = ("__node__", "fetch", "app.fetch")
    value = [("messages", [{"role": "ai", "content": "hello " * 20}]), ("count", 3)]
    out = {}
    for name, cache in (
        ("LangGraph InMemoryCache", LgCache()),
        ("graphpool InMemoryCache", InMemoryCache()),
    ):
        keys = [(ns, f"{i:032x}") for i in range(count)]
        out[name] = {
            "set": timed(lambda c=cache, ks=keys: [c.set({k: (value, None)}) for k in ks], count),
            "get": timed(lambda c=cache, ks=keys: [c.get([k]) for k in ks], count),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench/results/store.md")
    args = parser.parse_args()

    columns = ["put", "get", "search", "search filter", "search query"]
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            index = {"dims": DIMS, "embed": embed, "fields": ["text"]}
            for (name, make), (_, make_vec) in zip(
                stores(tmp, None), stores(tmp, index), strict=True
            ):
                plain = run_store(make, args.items, vector=False)
                ranked = run_store(make_vec, args.items, vector=True)
                plain["search query"] = ranked.get("search query", float("nan"))
                for op, us in plain.items():
                    best.setdefault(name, {})[op] = min(us, best.get(name, {}).get(op, us))
    caches: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):
        for name, ops in run_caches(args.items).items():
            for op, us in ops.items():
                caches.setdefault(name, {})[op] = min(us, caches.get(name, {}).get(op, us))

    lines = [
        "# Store and cache: microseconds per operation",
        "",
        f"`python bench/bench_store.py --items {args.items} --repeats {args.repeats}` on "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs "
        f"(shared), langgraph {version('langgraph')}, langgraph-checkpoint-sqlite "
        f"{version('langgraph-checkpoint-sqlite')}. Best of {args.repeats}; {args.items} items in "
        "10 namespaces; searches return 10 items; `search query` ranks a namespace's items by a "
        f"{DIMS}-dimension vector.",
        "",
        "| store | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, ops in best.items():
        cells = ["n/a" if ops[c] != ops[c] else f"{ops[c]:.0f}" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| cache | set | get |", "|---|---:|---:|"]
    for name, ops in caches.items():
        lines.append(f"| {name} | {ops['set']:.1f} | {ops['get']:.1f} |")
    publish(lines, args.out)


if __name__ == "__main__":
    main()
