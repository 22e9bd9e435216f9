"""Worker kinds: CPU-bound fan-out on processes, and a wide async fan-out.

1. ``cpu``: four pure-Python CPU-bound nodes of about 0.5 s each, in parallel.
   LangGraph runs them on threads, which serialize on the GIL; graphpool runs
   them with ``executor="process"`` on every core. Ideal on 2 cores: 0.5x.
2. ``async``: 1000 async nodes each awaiting ``asyncio.sleep(0.1)``, under
   ``ainvoke`` on both libraries. Ideal: 0.1 s.
3. ``cold start``: what the first ``cpu`` fan-out of a fresh process pays over a
   warm pool (starting the fork server and the worker processes). Each sample
   is a fresh Python process: the first invoke, minus the median of 3 after it.

    python bench/bench_workers.py [--repeats N] [--cold N] [--out bench/results/workers.md]
    python bench/bench_workers.py --cold-only [--cold N]   # rewrites only the cold-start section
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import operator
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from types import SimpleNamespace
from typing import Annotated, Any, TypedDict

import _common
import cloudpickle
from _common import calibrate, libraries, publish, spin

import graphpool

# Sent by value: a worker importing _common would import langgraph with it, a
# cost of this script, not of the pool (it made the cold start look seconds long).
cloudpickle.register_pickle_by_value(_common)


class State(TypedDict):
    results: Annotated[list, operator.add]


def cpu_graph(lib: SimpleNamespace, n: int, **node_args: Any):
    def work(state: State, i: int = 0) -> dict:
        return {"results": [spin(n) + 0 * i]}

    b = lib.StateGraph(State)
    b.add_node("fan", lambda s: {"results": []})
    b.add_edge(lib.START, "fan")
    for i in range(4):
        b.add_node(f"cpu{i}", lambda s, i=i: work(s, i), **node_args)
        b.add_edge("fan", f"cpu{i}")
        b.add_edge(f"cpu{i}", lib.END)
    return b.compile()


def async_graph(lib: SimpleNamespace, width: int):
    async def wait(state: State) -> dict:
        await asyncio.sleep(0.1)
        return {"results": [1]}

    b = lib.StateGraph(State)
    b.add_node("fan", lambda s: {"results": []})
    b.add_edge(lib.START, "fan")
    for i in range(width):
        b.add_node(f"io{i}", wait)
        b.add_edge("fan", f"io{i}")
        b.add_edge(f"io{i}", lib.END)
    return b.compile()


def timed(fn: Any) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def one_cold_start(n: int) -> None:
    """In a fresh process: print the first invoke's time, then three warm ones."""
    graph = cpu_graph(libraries()[1], n, executor="process")
    times = [timed(lambda: graph.invoke({"results": []}))[0] for _ in range(4)]
    print(" ".join(f"{t:.4f}" for t in times))


def cold_starts(n: int, samples: int) -> list[tuple[float, float]]:
    """``(first invoke, warm median)`` in ``samples`` fresh processes."""
    found = []
    for _ in range(samples):
        done = subprocess.run(
            [sys.executable, __file__, "--one-cold", str(n)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        first, *warm = map(float, done.stdout.split())
        found.append((first, statistics.median(warm)))
    return found


def cold_section(n: int, samples: int) -> list[str]:
    found = cold_starts(n, samples)
    extra = [first - warm for first, warm in found]
    return [
        "## Cold start: the first CPU fan-out of a fresh process",
        "",
        f"{samples} fresh processes; in each, the first invoke of the 4-node CPU fan-out "
        "(starting the fork server and the workers) and the median of the 3 invokes after it.",
        "",
        "| first invoke s | warm s | extra s |",
        "|---|---|---|",
        *(f"| {first:.3f} | {warm:.3f} | {first - warm:.3f} |" for first, warm in found),
        "",
        f"Median extra time of the first fan-out: **{statistics.median(extra):.3f} s** "
        f"(min {min(extra):.3f}, max {max(extra):.3f}).",
    ]


def replace_section(out: str, section: list[str]) -> None:
    """Put ``section`` in the report at ``out`` in place of its old copy (or at the end)."""
    with open(out) as f:
        lines = f.read().rstrip("\n").split("\n")
    if section[0] in lines:
        start = lines.index(section[0])
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
        lines[start : end if end is not None else len(lines)] = [*section, ""]
    else:
        lines += ["", *section]
    publish(lines, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold", type=int, default=3, help="fresh processes for the cold start")
    parser.add_argument("--cold-only", action="store_true")
    parser.add_argument("--one-cold", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench/results/workers.md")
    args = parser.parse_args()
    if args.one_cold:
        one_cold_start(args.one_cold)
        return

    lg, gp = libraries()
    n = calibrate(0.5)
    if args.cold_only:
        stamp = (
            f"Generated by `python bench/bench_workers.py --cold-only --cold {args.cold}` on "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} cores, load average (1 min) {os.getloadavg()[0]:.2f}."
        )
        section = cold_section(n, args.cold)
        replace_section(args.out, [*section[:2], stamp, "", *section[2:]])
        return
    single, _ = timed(lambda: spin(n))
    cpu = {
        "langgraph (threads)": cpu_graph(lg, n),
        "graphpool process": cpu_graph(gp, n, executor="process"),
    }
    cold, _ = timed(lambda: cpu["graphpool process"].invoke({"results": []}))  # starts workers
    expected = sorted(cpu["langgraph (threads)"].invoke({"results": []})["results"])
    io = {"langgraph": async_graph(lg, 1000), "graphpool": async_graph(gp, 1000)}

    cpu_times: dict[str, list[float]] = {k: [] for k in cpu}
    io_times: dict[str, list[float]] = {k: [] for k in io}
    for r in range(args.repeats):
        for name in cpu if r % 2 == 0 else reversed(list(cpu)):
            took, out = timed(lambda name=name: cpu[name].invoke({"results": []}))
            assert sorted(out["results"]) == expected, name
            cpu_times[name].append(took)
        for name in io if r % 2 == 0 else reversed(list(io)):
            took, out = timed(lambda name=name: asyncio.run(io[name].ainvoke({"results": []})))
            assert len(out["results"]) == 1000, name
            io_times[name].append(took)
        print(
            f"repeat {r + 1}: "
            + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in (*cpu_times.items(), *io_times.items()))
        )

    med = {k: statistics.median(v) for k, v in (*cpu_times.items(), *io_times.items())}
    lg_cpu, gp_cpu = med["langgraph (threads)"], med["graphpool process"]
    lines = [
        "# Worker kinds",
        "",
        f"Generated by `python bench/bench_workers.py --repeats {args.repeats}` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, langgraph {version('langgraph')}, "
        f"graphpool {graphpool.__version__}. Medians of repeats, both libraries in one process, "
        "order alternating per repeat.",
        "",
        "## CPU-bound fan-out: 4 pure-Python nodes of about 0.5 s each",
        "",
        f"One node alone took {single:.3f} s (sequential total {4 * single:.2f} s).",
        "",
        "| runtime | median s | min - max s | vs LangGraph |",
        "|---|---|---|---|",
        *(
            f"| {k} | {med[k]:.3f} | {min(v):.3f} - {max(v):.3f} | {med[k] / lg_cpu:.2f}x |"
            for k, v in cpu_times.items()
        ),
        "",
        f"graphpool process / LangGraph = **{gp_cpu / lg_cpu:.2f}x** (target <= 0.6x, ideal "
        f"0.5x on 2 cores). First invoke, including starting the worker processes: {cold:.3f} s.",
        "",
        "## Async fan-out: 1000 nodes awaiting asyncio.sleep(0.1), ainvoke",
        "",
        "| runtime | median s | min - max s | vs ideal 0.1 s |",
        "|---|---|---|---|",
        *(
            f"| {k} | {med[k]:.3f} | {min(v):.3f} - {max(v):.3f} | {med[k] / 0.1:.2f}x |"
            for k, v in io_times.items()
        ),
        "",
        f"graphpool: {med['graphpool']:.3f} s (target <= 0.3 s).",
        "",
        *cold_section(n, args.cold),
    ]
    publish(lines, args.out)


if __name__ == "__main__":
    main()
