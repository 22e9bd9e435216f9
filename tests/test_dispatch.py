"""The dispatcher's choices: where a step's jobs run, and that a choice made for
speed never delays a deadline."""

from __future__ import annotations

import asyncio
import operator
import threading
import time
from typing import Annotated

import pytest
from typing_extensions import TypedDict

from graphpool import END, START, NodeTimeoutError, StateGraph, ThreadPool


class S(TypedDict):
    log: Annotated[list, operator.add]


def _fan(fns: dict, **node_kw) -> StateGraph:
    builder = StateGraph(S)
    for name, fn in fns.items():
        builder.add_node(name, fn, **node_kw.get(name, {}))
        builder.add_edge(START, name)
    return builder


def test_the_caller_runs_one_job_of_a_fan_out_and_its_siblings_still_overlap() -> None:
    # The caller runs one job itself (and, when it would only wait, any sibling no
    # worker has taken yet: Dispatcher.reclaim). Here the three must meet at a
    # barrier, so the two siblings run on pool threads at the same time as the
    # caller's job: running jobs itself never takes away overlap the nodes need.
    caller = threading.current_thread().name
    barrier = threading.Barrier(3)

    def meet(name: str):
        def node(state: S) -> dict:
            barrier.wait(10)
            return {"log": [(name, threading.current_thread().name)]}

        return node

    log = _fan({n: meet(n) for n in "abc"}).compile().invoke({"log": []})["log"]
    threads = [t for _, t in log]
    assert threads.count(caller) == 1  # one job ran here; the others on pool threads
    assert sorted(n for n, _ in log) == ["a", "b", "c"]


def test_a_private_pool_runs_every_job_itself() -> None:
    pool = ThreadPool(4)
    try:
        caller = threading.current_thread().name
        where = {n: (lambda s, n=n: {"log": [threading.current_thread().name]}) for n in "abc"}
        log = _fan(where).compile(pool=pool).invoke({"log": []})["log"]
        assert caller not in log  # a bounded pool's bound counts every node body
    finally:
        pool.shutdown(wait=True)


def test_a_sibling_timeout_is_noticed_while_the_caller_could_be_busy() -> None:
    release = threading.Event()

    def slow(state: S) -> dict:
        release.wait(10)
        return {"log": ["slow"]}

    def hung(state: S) -> dict:
        release.wait(10)
        return {"log": ["hung"]}

    graph = _fan({"a_slow": slow, "b_hung": hung}, b_hung={"timeout": 0.5}).compile()
    began = time.monotonic()
    try:
        with pytest.raises(NodeTimeoutError):
            graph.invoke({"log": []})
        assert time.monotonic() - began < 5  # not after the slow sibling's 10 s
    finally:
        release.set()


def test_updates_come_in_the_order_jobs_finished_even_the_kept_one() -> None:
    # "a_slow" is launched first, so the caller keeps it and runs it itself;
    # "b_fast" finishes on a pool thread meanwhile and must be reported first
    def slow(state: S) -> dict:
        time.sleep(0.3)
        return {"log": ["slow"]}

    graph = _fan({"a_slow": slow, "b_fast": lambda s: {"log": ["fast"]}}).compile()
    order = [next(iter(chunk)) for chunk in graph.stream({"log": []}, stream_mode="updates")]
    assert order == ["b_fast", "a_slow"]


@pytest.mark.timeout(30)
def test_a_lone_sync_node_of_an_async_run_leaves_the_event_loop_free() -> None:
    # A sync node waits for something only the caller's event loop can do: if the
    # node ran inline on that loop, the loop could not do it and the wait would fail.
    ready = threading.Event()

    class S(TypedDict):
        seen: bool

    def node(state: S) -> dict:
        return {"seen": ready.wait(5)}

    builder = StateGraph(S)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    graph = builder.compile()

    async def main() -> dict:
        async def set_soon() -> None:
            await asyncio.sleep(0.05)
            ready.set()

        helper = asyncio.create_task(set_soon())
        result = await graph.ainvoke({"seen": False})
        await helper
        return result

    assert asyncio.run(main()) == {"seen": True}
