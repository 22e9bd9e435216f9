"""Checkpointing cost: the seed graph with a SQLite saver, graphpool vs LangGraph, one run.

The seed graph (start -> A, B, C -> collect, no sleeps) runs on a new thread per
invoke, so each invoke is a whole durable run: 5 checkpoints (input, START, and
one per superstep) plus the saved writes of its 5 tasks. Variants:

* LangGraph's ``SqliteSaver`` (langgraph-checkpoint-sqlite) with
  ``durability="async"`` (LangGraph's default: checkpoints are written by a
  background thread while the next step runs) and ``durability="sync"``;
  SQLite's default ``synchronous`` (FULL) as LangGraph leaves it, and NORMAL;
* graphpool's ``SqliteSaver`` (always synchronous: a step's checkpoint is
  written before the next step starts) with its default ``synchronous=NORMAL``,
  and FULL;
* ``durability="exit"`` on both (the run's last checkpoint is written when it
  ends), and graphpool's ``durability="async"`` (written as ``"sync"``);
* each library without a checkpointer, as the baseline.

Reported: median time per invoke over repeats (order alternating per repeat),
and the bytes stored per checkpoint: the record payload (checkpoint, metadata
and task-write blobs) and the database file itself (after a WAL checkpoint),
each divided by the number of checkpoints.

    python bench/bench_checkpoint.py [--repeats 5] [--invokes 200]
                                     [--out bench/results/checkpoint.md]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import operator
import os
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from importlib.metadata import version
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict

import langgraph.graph
from langgraph.checkpoint.sqlite import SqliteSaver as LangGraphSqliteSaver

import graphpool
from graphpool.checkpoint.sqlite import SqliteSaver

EXPECTED = ["A", "B", "C", "Collected: A, B, C"]


class SeedState(TypedDict):
    results: Annotated[list, operator.add]


def build_seed(lib: SimpleNamespace, checkpointer: Any = None):
    def start(state):
        return state

    def node(name: str):
        def run(state):
            return {"results": [name]}

        return run

    def collect(state):
        return {"results": [f"Collected: {', '.join(sorted(state['results']))}"]}

    b = lib.StateGraph(SeedState)
    b.add_node("start", start)
    for name in "ABC":
        b.add_node(name, node(name))
        b.add_edge("start", name)
        b.add_edge(name, "collect")
    b.add_node("collect", collect)
    b.add_edge(lib.START, "start")
    b.add_edge("collect", lib.END)
    return b.compile(checkpointer=checkpointer)


class Variant:
    """One way of running the seed graph; ``invoke()`` runs it once on a new thread."""

    def __init__(self, name: str, graph: Any, db: str | None, **invoke_args: Any) -> None:
        self.name, self.graph, self.db, self.invoke_args = name, graph, db, invoke_args
        self.times: list[float] = []

    def invoke(self) -> None:
        config = {"configurable": {"thread_id": uuid.uuid4().hex}} if self.db else None
        result = self.graph.invoke({"results": []}, config, **self.invoke_args)
        if sorted(result["results"]) != EXPECTED:
            raise SystemExit(f"{self.name}: wrong result {result}")


def storage(db: str, tables: dict[str, str], counted: str) -> tuple[int, float, float]:
    """(checkpoints, payload bytes per checkpoint, file bytes per checkpoint)."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    count = conn.execute(f"SELECT count(*) FROM {counted}").fetchone()[0]
    payload = sum(
        conn.execute(f"SELECT coalesce(sum({expr}), 0) FROM {table}").fetchone()[0]
        for table, expr in tables.items()
    )
    conn.close()
    return count, payload / count, os.path.getsize(db) / count


def timed(fn: Callable[[], None], n: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--invokes", type=int, default=200, help="timed invokes per repeat")
    parser.add_argument("--out", default="bench/results/checkpoint.md")
    args = parser.parse_args()

    lg = SimpleNamespace(
        StateGraph=langgraph.graph.StateGraph, START=langgraph.graph.START, END=langgraph.graph.END
    )
    gp = SimpleNamespace(StateGraph=graphpool.StateGraph, START=graphpool.START, END=graphpool.END)
    tmp = tempfile.mkdtemp(prefix="bench-checkpoint-")

    def lg_saver(name: str, synchronous: str) -> tuple[Any, str]:
        path = os.path.join(tmp, f"{name}.db")
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        return LangGraphSqliteSaver(conn), path

    def gp_saver(name: str, synchronous: str) -> tuple[Any, str]:
        path = os.path.join(tmp, f"{name}.db")
        return SqliteSaver(path, synchronous=synchronous), path

    variants = [Variant("langgraph, no checkpointer", build_seed(lg), None)]
    for durability in ("async", "sync"):
        for sync in ("FULL", "NORMAL"):
            saver, path = lg_saver(f"lg-{durability}-{sync}", sync)
            name = f"langgraph SqliteSaver, durability={durability}, synchronous={sync}"
            variants.append(Variant(name, build_seed(lg, saver), path, durability=durability))
    saver, path = lg_saver("lg-exit-NORMAL", "NORMAL")
    name = "langgraph SqliteSaver, durability=exit, synchronous=NORMAL"
    variants.append(Variant(name, build_seed(lg, saver), path, durability="exit"))
    variants.append(Variant("graphpool, no checkpointer", build_seed(gp), None))
    for sync in ("NORMAL", "FULL"):
        saver, path = gp_saver(f"gp-{sync}", sync)
        default = " (default)" if sync == "NORMAL" else ""
        name = f"graphpool SqliteSaver, synchronous={sync}{default}"
        variants.append(Variant(name, build_seed(gp, saver), path))
    for durability in ("async", "exit"):  # "async" is written as "sync" is: same cost
        saver, path = gp_saver(f"gp-{durability}-NORMAL", "NORMAL")
        name = f"graphpool SqliteSaver, durability={durability}, synchronous=NORMAL"
        variants.append(Variant(name, build_seed(gp, saver), path, durability=durability))

    for variant in variants:  # warm up (and check) once each
        variant.invoke()
    for r in range(args.repeats):
        order = variants if r % 2 == 0 else list(reversed(variants))
        for variant in order:
            variant.times.append(timed(variant.invoke, args.invokes))
        print(f"repeat {r + 1}/{args.repeats} done")

    lg_tables = {"checkpoints": "length(checkpoint) + length(metadata)", "writes": "length(value)"}
    gp_tables = {
        "graphpool_checkpoints": "length(checkpoint) + length(metadata)",
        "graphpool_results": "length(result)",
    }
    invokes = 1 + args.repeats * args.invokes
    rows = []
    base = {"langgraph": None, "graphpool": None}
    for variant in variants:
        median = statistics.median(variant.times) * 1000
        lib = variant.name.split(",")[0].split()[0]
        if variant.db is None:
            base[lib] = median
            per_checkpoint = ("-", "-", "-")
        else:
            tables = lg_tables if lib == "langgraph" else gp_tables
            counted = "checkpoints" if lib == "langgraph" else "graphpool_checkpoints"
            count, payload, file = storage(variant.db, tables, counted)
            per_checkpoint = (f"{count / invokes:.0f}", f"{payload:.0f}", f"{file:.0f}")
        lo, hi = min(variant.times) * 1000, max(variant.times) * 1000
        rows.append(
            f"| {variant.name} | {median:.3f} | {lo:.3f} - {hi:.3f} | "
            f"{median - (base[lib] or median):+.3f} | " + " | ".join(per_checkpoint) + " |"
        )

    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    lines = [
        "# Checkpointing: the seed graph with a SQLite saver",
        "",
        f"Generated by `python bench/bench_checkpoint.py --repeats {args.repeats} --invokes "
        f"{args.invokes}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, langgraph "
        f"{version('langgraph')}, langgraph-checkpoint-sqlite "
        f"{version('langgraph-checkpoint-sqlite')}, SQLite {sqlite3.sqlite_version}, graphpool "
        f"{graphpool.__version__} ({rev}).",
        "",
        "Each invoke is a new thread: a whole durable run of the seed graph (start -> A, B, C "
        "-> collect, no sleeps). Time: median over repeats of the mean time per invoke "
        f"({args.invokes} invokes per repeat, both libraries in one process, order alternating "
        "per repeat). Storage: what the database holds after all the runs, per checkpoint "
        "(payload = checkpoint + metadata + task-write blobs; file = database size after a "
        "WAL checkpoint, indexes and ids included).",
        "",
        "| variant | ms per invoke | min - max | + vs no checkpointer | checkpoints per invoke "
        "| payload bytes per checkpoint | file bytes per checkpoint |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    with open(args.out, "w") as f:
        f.write(report)


if __name__ == "__main__":
    main()
