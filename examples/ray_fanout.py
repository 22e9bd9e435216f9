"""CPU-heavy branches as Ray tasks, spread over the machines of a Ray cluster.

    pip install 'graphpool[ray]'
    python examples/ray_fanout.py                               # a 2-node cluster on loopback
    RAY_ADDRESS=auto python examples/ray_fanout.py              # the cluster `ray start` runs

With ``RAY_ADDRESS`` (Ray's own variable) or ``GRAPHPOOL_RAY_ADDRESS`` it runs
on that cluster. Without either, the script starts its own cluster for the
demo: two ``ray start`` processes on 127.0.0.1 (a head and a second node),
stopped at the end.
"""

import contextlib
import operator
import os
import time
from typing import Annotated, TypedDict

from graphpool import END, START, RayPool, RetryPolicy, StateGraph
from graphpool.testing import LocalRayCluster


class State(TypedDict):
    n: int
    primes: Annotated[list, operator.add]
    machines: Annotated[list, operator.add]


def count_primes(lo: int, hi: int) -> int:
    return sum(all(k % d for d in range(2, int(k**0.5) + 1)) for k in range(max(lo, 2), hi))


def shard(i: int):
    def work(state: State) -> dict:
        import ray

        size = state["n"] // 8
        return {
            "primes": [(i, count_primes(i * size, (i + 1) * size))],
            "machines": [ray.get_runtime_context().get_node_id()],
        }

    return work


builder = StateGraph(State)
builder.add_node("split", lambda s: None)
builder.add_edge(START, "split")
for i in range(8):
    builder.add_node(
        f"shard{i}",
        shard(i),
        executor="ray",
        resources={"num_cpus": 1},
        timeout=120,
        retry_policy=RetryPolicy(max_attempts=3),
    )
    builder.add_edge("split", f"shard{i}")
    builder.add_edge(f"shard{i}", END)

with contextlib.ExitStack() as stack:
    address = None  # RayPool then follows GRAPHPOOL_RAY_ADDRESS, else Ray's own rules
    if not (os.environ.get("GRAPHPOOL_RAY_ADDRESS") or os.environ.get("RAY_ADDRESS")):
        address = stack.enter_context(LocalRayCluster(nodes=2, num_cpus=1)).address
    pool = RayPool(address=address)
    stack.callback(pool.shutdown)
    graph = builder.compile(ray_pool=pool)

    start = time.time()
    result = graph.invoke({"n": 400_000, "primes": [], "machines": []})
    print("primes per shard:", sorted(result["primes"]))
    print("total:", sum(count for _, count in result["primes"]))
    print("ray nodes used:", len(set(result["machines"])))
    print("took", round(time.time() - start, 2), "s")
