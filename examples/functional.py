"""The functional API: an entrypoint whose tasks run on threads and on worker
processes, pausing for a human's approval with interrupt().

    python examples/functional.py

``fetch`` is I/O-bound (threads); ``count_primes`` is CPU-bound and runs on a
worker process (``executor="process"``). The run pauses in ``interrupt()``; the
caller resumes it with ``Command(resume=...)``, and the finished tasks are not
run again: their saved results come back.
"""

import time

from graphpool.checkpoint import InMemorySaver
from graphpool.func import entrypoint, task
from graphpool.types import Command, interrupt

FETCHED: list[int] = []  # fetch calls made in this process


@task
def fetch(shard: int) -> tuple[int, int]:
    FETCHED.append(shard)
    time.sleep(0.05)  # an I/O call: a thread waits
    return shard * 25_000, (shard + 1) * 25_000


def primes_between(lo: int, hi: int) -> int:
    return sum(all(k % d for d in range(2, int(k**0.5) + 1)) for k in range(max(lo, 2), hi))


@task(executor="process")
def count_primes(bounds: tuple[int, int]) -> int:
    return primes_between(*bounds)


@entrypoint(checkpointer=InMemorySaver())
def survey(shards: int) -> dict:
    ranges = [f.result() for f in [fetch(i) for i in range(shards)]]
    counts = [f.result() for f in [count_primes(r) for r in ranges]]
    verdict = interrupt(f"publish {sum(counts)} primes?")
    return {"counts": counts, "published": verdict == "yes"}


if __name__ == "__main__":
    config = {"configurable": {"thread_id": "survey"}}
    paused = survey.invoke(4, config)
    print("asked:", paused["__interrupt__"][0].value)
    print("result:", survey.invoke(Command(resume="yes"), config))
    print("fetch calls:", len(FETCHED))  # 4: the resumed run reused the saved results
