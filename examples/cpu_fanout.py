"""CPU-heavy branches on worker processes, with a timeout and a retried crash.

    python examples/cpu_fanout.py
"""

import operator
import os
import random
import time
from typing import Annotated, TypedDict

from graphpool import END, START, RetryPolicy, StateGraph


class State(TypedDict):
    n: int
    primes: Annotated[list, operator.add]


def count_primes(lo: int, hi: int) -> int:
    return sum(all(k % d for d in range(2, int(k**0.5) + 1)) for k in range(max(lo, 2), hi))


def shard(i: int):
    def work(state: State) -> dict:
        if random.random() < 0.3:  # a flaky worker: the process dies, the retry runs
            os._exit(1)
        size = state["n"] // 4
        return {"primes": [(i, count_primes(i * size, (i + 1) * size))]}

    return work


builder = StateGraph(State)
builder.add_node("split", lambda s: None)
builder.add_edge(START, "split")
for i in range(4):
    builder.add_node(
        f"shard{i}",
        shard(i),
        executor="process",
        timeout=60,
        retry_policy=RetryPolicy(max_attempts=10, initial_interval=0.05),
    )
    builder.add_edge("split", f"shard{i}")
    builder.add_edge(f"shard{i}", END)
graph = builder.compile()

start = time.time()
result = graph.invoke({"n": 400_000, "primes": []})
print("primes per shard:", result["primes"])
print("total:", sum(count for _, count in result["primes"]))
print("took", round(time.time() - start, 2), "s on", os.cpu_count(), "cores")
