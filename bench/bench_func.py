"""The functional API: 1,000 task calls under one entrypoint, graphpool vs LangGraph.

Two fan-outs, each one ``invoke`` of an entrypoint that starts 1,000 ``@task``
calls at once and waits for them all: no-op tasks (the per-call overhead) and
10 ms I/O tasks (``time.sleep``; the pool's width decides). The entrypoints
have no checkpointer, as the numbers in issue 15 were taken. A third case runs
8 CPU-bound tasks of about 0.5 s each: on ``executor="process"`` in graphpool,
on LangGraph's threads (its only choice), against the ideal for the cores
(``ceil(8 / cores)`` times one task's time) and a bare ``ProcessPoolExecutor``.

    python bench/bench_func.py [--repeats N] [--cpu-repeats N] [--out bench/results/func.md]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import math
import os
import platform
import statistics
import time
from importlib.metadata import version
from typing import Any

import langgraph.func
from _common import calibrate, publish

import graphpool
import graphpool.func

CALLS = 1000


def noop(i: int) -> int:
    return i


def io(i: int) -> int:
    time.sleep(0.01)
    return i


def burn(n: int) -> float:
    """Pure-Python CPU work (holds the GIL the whole time); the seconds it took."""
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i % 7
    return time.perf_counter() - start


def build_cpu(module: Any, n: int, **options: Any) -> Any:
    """One entrypoint that runs ``k`` calls of ``burn(n)`` at once; their durations."""
    call = module.task(name="burn", **options)(burn)

    @module.entrypoint()
    def cpu(k: int) -> list[float]:
        return [f.result() for f in [call(n) for _ in range(k)]]

    return cpu


def build_on(pool: Any, n: int) -> Any:
    """graphpool's CPU case on a given process pool (``entrypoint(pool=...)``)."""
    call = graphpool.func.task(name="burn", executor="process")(burn)

    @graphpool.func.entrypoint(pool=pool)
    def cpu(k: int) -> list[float]:
        return [f.result() for f in [call(n) for _ in range(k)]]

    return cpu


def prestarted(cores: int) -> graphpool.ProcessPool:
    """A process pool whose ``cores`` workers are started and idle (``min_workers``)."""
    pool = graphpool.ProcessPool(max_workers=cores, min_workers=cores)
    deadline = time.monotonic() + 60
    while pool.stats().idle < cores:
        assert time.monotonic() < deadline, "the warm workers never started"
        time.sleep(0.01)
    return pool


def cpu_section(repeats: int) -> list[str]:
    """8 CPU-bound tasks of about 0.5 s against the machine's ideal; report lines."""
    cores = os.cpu_count() or 1
    n = calibrate(0.5)
    warm = prestarted(cores)
    bare = concurrent.futures.ProcessPoolExecutor(cores)
    rows: dict[str, Any] = {
        "langgraph (threads)": build_cpu(langgraph.func, n).invoke,
        'graphpool executor="process", pre-started pool': build_on(warm, n).invoke,
        'graphpool executor="process", default pool': build_cpu(
            graphpool.func, n, executor="process"
        ).invoke,
        "bare ProcessPoolExecutor (no graphpool)": lambda k: list(bare.map(burn, [n] * k)),
    }
    for run in rows.values():
        assert len(run(cores)) == cores  # warm-up: every worker has run a call
    cold_name = 'graphpool executor="process", a new pool each run (cold)'
    times: dict[str, list[float]] = {name: [] for name in [*rows, cold_name]}
    # wall time over the ideal for the durations the calls had in that very run
    # (sum / cores): what the runtime adds, whatever the machine's load did to the work
    gaps: dict[str, list[float]] = {name: [] for name in times}

    def record(name: str, start: float, took: list[float]) -> None:
        wall = time.perf_counter() - start
        assert len(took) == 8
        times[name].append(wall)
        gaps[name].append(wall / (math.ceil(8 / cores) * sum(took) / 8))

    single: list[float] = []  # one task's work alone in this process, each repeat
    for r in range(repeats):
        single.append(burn(n))
        for name in list(rows) if r % 2 == 0 else list(reversed(rows)):
            start = time.perf_counter()
            record(name, start, rows[name](8))
        fresh = graphpool.ProcessPool(max_workers=cores)
        start = time.perf_counter()
        record(cold_name, start, build_on(fresh, n).invoke(8))
        fresh.shutdown(wait=True)
        print(f"cpu repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
    warm.shutdown(wait=True)
    bare.shutdown()
    one = statistics.median(single)
    ideal = math.ceil(8 / cores) * one
    lines = [
        "",
        f"8 CPU-bound tasks of {one:.2f} s each (pure Python; the same work timed alone in "
        f"this process each repeat, median); {cores} cores here, so the ideal is "
        f"ceil(8 / {cores}) x {one:.2f} = {ideal:.2f} s. Median of {repeats} repeats, order "
        "alternating; the pre-started pool is `ProcessPool(max_workers=cores, "
        "min_workers=cores)` given as `entrypoint(pool=...)`, its workers idle before the "
        "first repeat; the default pool is warmed by one run before the first repeat; the "
        "bare `concurrent.futures.ProcessPoolExecutor` runs the same calls without "
        "graphpool, which shows what the shared machine gave at the time.",
        "",
        "The last column divides each run's wall time by the ideal for the durations its "
        "own calls had (ceil(8 / cores) x their mean): the share the runtime adds, with "
        "the machine's load on the work itself taken out (for LangGraph's threads the "
        "calls overlap on one GIL, so it is not meaningful there).",
        "",
        "| runtime | median s | min - max s | vs ideal | vs bare pool | vs its calls' ideal |",
        "|---|---|---|---|---|---|",
    ]
    base = statistics.median(times["bare ProcessPoolExecutor (no graphpool)"])
    for name, got in times.items():
        median = statistics.median(got)
        lines.append(
            f"| {name} | {median:.2f} | {min(got):.2f} - {max(got):.2f} | "
            f"{median / ideal:.2f}x | {median / base:.2f}x | "
            f"{statistics.median(gaps[name]):.2f}x |"
        )
    return lines


def build(module: Any, body: Any) -> Any:
    call = module.task(name=body.__name__)(body)

    @module.entrypoint()
    def fan_out(n: int) -> int:
        return sum(f.result() for f in [call(i) for i in range(n)])

    return fan_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu-repeats", type=int, default=9)
    parser.add_argument("--out", default="bench/results/func.md")
    args = parser.parse_args()

    expected = sum(range(CALLS))
    cases = {
        (kind, lib): build(module, body)
        for kind, body in (("no-op", noop), ("10 ms I/O", io))
        for lib, module in (("langgraph", langgraph.func), ("graphpool", graphpool.func))
    }
    times: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
    for key, flow in cases.items():  # warm-up: pools started, imports done
        assert flow.invoke(10) == sum(range(10)), key
    for r in range(args.repeats):
        order = list(cases) if r % 2 == 0 else list(reversed(cases))
        for key in order:
            start = time.perf_counter()
            result = cases[key].invoke(CALLS)
            times[key].append(time.perf_counter() - start)
            assert result == expected, (key, result)
        print(f"repeat {r + 1}: " + ", ".join(f"{k} {times[k][-1]:.3f} s" for k in cases))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Functional API: 1,000 task calls under one entrypoint",
        "",
        f"Generated by `python bench/bench_func.py --repeats {args.repeats} --cpu-repeats "
        f"{args.cpu_repeats}` on {now}, "
        f"Python {platform.python_version()}, langgraph {version('langgraph')}, "
        f"graphpool {version('graphpool')}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores when it ended (other work shares this machine).",
        "",
        "One `invoke` of an entrypoint that starts 1,000 `@task` calls at once and waits "
        "for them all; no checkpointer. Default pools of each library. Median of repeats, "
        "one process, order alternating per repeat.",
        "",
        "| tasks | runtime | median s | min - max s | per call ms | vs LangGraph |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("no-op", "10 ms I/O"):
        base = statistics.median(times[(kind, "langgraph")])
        for lib in ("langgraph", "graphpool"):
            got = times[(kind, lib)]
            median = statistics.median(got)
            lines.append(
                f"| {kind} | {lib} | {median:.3f} | {min(got):.3f} - {max(got):.3f} | "
                f"{1000 * median / CALLS:.3f} | {median / base:.2f}x |"
            )
    lines += cpu_section(args.cpu_repeats)
    publish(lines, args.out)


if __name__ == "__main__":
    main()
