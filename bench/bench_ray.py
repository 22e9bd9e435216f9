"""executor="ray" on a local two-node Ray cluster (two ``ray start`` processes on loopback).

1. ``overhead``: what graphpool adds per node over a bare Ray task round trip.
   Bare: ``ray.get(f.remote(state))``. graphpool: a one-node graph with
   ``executor="ray"`` (per ``invoke``) and a chain of 10 Ray nodes (per node).
   Same function, same state, same cluster, interleaved; medians of many.
2. ``fanout``: 8 pure-Python CPU-bound nodes of about 0.5 s each, on the
   cluster (2 nodes x 1 CPU) vs ``executor="process"`` (2 worker processes)
   vs 8 bare Ray tasks. Ideal on 2 cores: 2.0 s.

    python bench/bench_ray.py [--repeats N] [--calls N] [--out bench/results/ray.md]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import operator
import os
import platform
import statistics
import time
from collections import Counter
from collections.abc import Callable
from importlib.metadata import version
from typing import Annotated, Any, TypedDict

import _common
import cloudpickle
from _common import calibrate, spin

import graphpool
from graphpool import END, START, RayPool, StateGraph
from graphpool._pool import Pools, ProcessPool, default_pool
from graphpool.testing import LocalRayCluster

cloudpickle.register_pickle_by_value(_common)  # Ray workers cannot import it


class State(TypedDict, total=False):
    x: int
    results: Annotated[list, operator.add]
    where: Annotated[list, operator.add]


def step(state: State) -> dict:
    return {"x": state["x"] + 1}


def with_pools(graph: Any, ray_pool: RayPool, process: ProcessPool) -> Any:
    graph._pools = Pools(default_pool(), lambda: process, ray=lambda: ray_pool)
    return graph


def chain(length: int, executor: str) -> StateGraph:
    b = StateGraph(State)
    previous = START
    for i in range(length):
        b.add_node(f"n{i}", step, executor=executor)
        b.add_edge(previous, f"n{i}")
        previous = f"n{i}"
    b.add_edge(previous, END)
    return b


def fan_out(n: int, executor: str) -> StateGraph:
    def work(state: State, i: int = 0) -> dict:
        where = []
        if executor == "ray":
            import ray

            where.append(ray.get_runtime_context().get_node_id())
        return {"results": [spin(n) + i], "where": where}

    b = StateGraph(State)
    b.add_node("fan", lambda s: {"results": []})
    b.add_edge(START, "fan")
    for i in range(8):
        b.add_node(f"cpu{i}", lambda s, i=i: work(s, i), executor=executor)
        b.add_edge("fan", f"cpu{i}")
        b.add_edge(f"cpu{i}", END)
    return b


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fan-out repeats")
    parser.add_argument("--calls", type=int, default=300, help="overhead calls per kind")
    parser.add_argument("--out", default="bench/results/ray.md")
    args = parser.parse_args()

    with LocalRayCluster(2, num_cpus=1) as cluster:
        import ray

        ray_pool = RayPool(address=cluster.address)
        ray_pool.connect()
        while sum(n["Alive"] for n in ray.nodes()) < 2:
            time.sleep(0.2)
        process = ProcessPool(max_workers=2)
        try:
            report = run(args, ray, ray_pool, process)
        finally:
            process.shutdown(wait=True, cancel_futures=True)
            ray_pool.shutdown()
    print(report)
    with open(args.out, "w") as f:
        f.write(report)


def run(args: argparse.Namespace, ray: Any, ray_pool: RayPool, process: ProcessPool) -> str:
    load = os.getloadavg()
    bare_step = ray.remote(step).options(max_retries=0, scheduling_strategy="SPREAD")
    one = with_pools(chain(1, "ray").compile(), ray_pool, process)
    ten = with_pools(chain(10, "ray").compile(), ray_pool, process)
    one_thread = with_pools(chain(1, "thread").compile(), ray_pool, process)
    kinds: dict[str, Callable[[], Any]] = {
        "bare Ray task": lambda: ray.get(bare_step.remote({"x": 0})),
        "graphpool, 1 Ray node": lambda: one.invoke({"x": 0}),
        "graphpool, 10 Ray nodes": lambda: ten.invoke({"x": 0}),
        "graphpool, 1 thread node": lambda: one_thread.invoke({"x": 0}),
    }
    expected = {
        "bare Ray task": {"x": 1},
        "graphpool, 1 Ray node": {"x": 1, "results": [], "where": []},
        "graphpool, 10 Ray nodes": {"x": 10, "results": [], "where": []},
        "graphpool, 1 thread node": {"x": 1, "results": [], "where": []},
    }
    for name, call in kinds.items():  # warm up: workers started, functions exported
        for _ in range(20):
            assert call() == expected[name], name
    times: dict[str, list[float]] = {k: [] for k in kinds}
    gc.collect()
    for i in range(args.calls):
        order = list(kinds) if i % 2 == 0 else list(reversed(kinds))
        for name in order:
            if name == "graphpool, 10 Ray nodes" and i % 10:
                continue  # a tenth as many calls: each has ten nodes
            took, _ = timed(kinds[name])
            times[name].append(took)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    bare = med["bare Ray task"]
    per_node_chain = med["graphpool, 10 Ray nodes"] / 10
    chain_calls = len(times["graphpool, 10 Ray nodes"])
    print({k: round(v, 3) for k, v in med.items()})

    n = calibrate(0.5)
    single, spun = timed(lambda: spin(n))
    fans = {
        "graphpool executor='ray' (2 Ray nodes x 1 CPU)": with_pools(
            fan_out(n, "ray").compile(), ray_pool, process
        ),
        "graphpool executor='process' (2 workers)": with_pools(
            fan_out(n, "process").compile(), ray_pool, process
        ),
    }
    bare_spin = ray.remote(spin).options(max_retries=0, scheduling_strategy="SPREAD")
    expected_results = sorted(spun + i for i in range(8))
    for graph in fans.values():  # warm up: start workers
        assert sorted(graph.invoke({"results": []})["results"]) == expected_results
    fan_times: dict[str, list[float]] = {k: [] for k in fans}
    fan_times["8 bare Ray tasks"] = []
    spread: list[int] = []
    for r in range(args.repeats):
        names = list(fan_times) if r % 2 == 0 else list(reversed(fan_times))
        for name in names:
            gc.collect()
            if name == "8 bare Ray tasks":
                took, out = timed(lambda: ray.get([bare_spin.remote(n) for _ in range(8)]))
                assert out == [spun] * 8
            else:
                took, result = timed(lambda name=name: fans[name].invoke({"results": []}))
                assert sorted(result["results"]) == expected_results, name
                if result["where"]:
                    spread = sorted(Counter(result["where"]).values())
            fan_times[name].append(took)
        print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in fan_times.items()))
    fan_med = {k: statistics.median(v) for k, v in fan_times.items()}
    ideal = 8 * single / 2

    lines = [
        "# executor='ray' on a local two-node Ray cluster",
        "",
        f"Generated by `python bench/bench_ray.py --repeats {args.repeats} --calls {args.calls}` "
        f"on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: Python "
        f"{platform.python_version()}, {os.cpu_count()} cores, ray {version('ray')}, graphpool "
        f"{graphpool.__version__}. The cluster: two `ray start` processes on 127.0.0.1 (a head "
        "and a worker node, 1 CPU each, `graphpool.testing.LocalRayCluster`), the driver in "
        "this process. Everything below ran in one process, one run. Load average "
        f"(1 min) at the start: {load[0]:.2f}, at the end: {os.getloadavg()[0]:.2f}.",
        "",
        "## Per-node overhead over a bare Ray task round trip",
        "",
        f"Median of {args.calls} calls per kind (the 10-node chain: {chain_calls} calls), "
        "kinds interleaved. The node function is `step(state) -> {'x': state['x'] + 1}`.",
        "",
        "| call | median ms | per node ms | added over bare ms |",
        "|---|---|---|---|",
        f"| bare Ray task: `ray.get(f.remote(state))` | {bare:.3f} | {bare:.3f} | - |",
        f"| graphpool invoke, 1 Ray node | {med['graphpool, 1 Ray node']:.3f} | "
        f"{med['graphpool, 1 Ray node']:.3f} | {med['graphpool, 1 Ray node'] - bare:.3f} |",
        f"| graphpool invoke, chain of 10 Ray nodes | {med['graphpool, 10 Ray nodes']:.3f} | "
        f"{per_node_chain:.3f} | {per_node_chain - bare:.3f} |",
        f"| graphpool invoke, 1 thread node (no Ray) | {med['graphpool, 1 thread node']:.3f} | "
        f"{med['graphpool, 1 thread node']:.3f} | - |",
        "",
        f"Added per node: **{per_node_chain - bare:.3f} ms** in a chain, "
        f"**{med['graphpool, 1 Ray node'] - bare:.3f} ms** for a one-node invoke "
        "(which also pays the run's own set-up; aim: under 2 ms).",
        "",
        "## CPU-bound fan-out: 8 pure-Python nodes of about 0.5 s each",
        "",
        f"One node alone took {single:.3f} s here; ideal on 2 cores: {ideal:.2f} s. "
        f"Medians of {args.repeats} repeats after a warm-up run, order alternating. Tasks "
        f"per Ray node in the last graphpool run: {spread}.",
        "",
        "| runtime | median s | min - max s | vs ideal |",
        "|---|---|---|---|",
        *(
            f"| {k} | {fan_med[k]:.3f} | {min(v):.3f} - {max(v):.3f} | {fan_med[k] / ideal:.2f}x |"
            for k, v in fan_times.items()
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
