"""Cancelling a run drops its waiting tasks: none starts after the cancellation returns,
and the pool's counters come back to zero."""

from __future__ import annotations

import asyncio
import operator
import threading
import time
from typing import Annotated, TypedDict

import pytest
from polling import wait_until

from graphpool import START, StateGraph, ThreadPool

pytestmark = pytest.mark.timeout(60)

WIDTH = 20


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]


class Starts:
    """Records when each node body starts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[tuple[float, str]] = []
        self.running = self.peak = 0

    def node(self, name: str):
        def body(state: S) -> S:
            with self.lock:
                self.times.append((time.monotonic(), name))
                self.running += 1
                self.peak = max(self.peak, self.running)
            time.sleep(0.05)
            with self.lock:
                self.running -= 1
            return {"log": [name]}

        return body

    def after(self, moment: float) -> list[str]:
        with self.lock:
            return [name for at, name in self.times if at > moment]


def wide_graph(starts: Starts, pool: ThreadPool):
    builder = StateGraph(S)
    for i in range(WIDTH):
        builder.add_node(f"n{i}", starts.node(f"n{i}"))
        builder.add_edge(START, f"n{i}")
    return builder.compile(pool=pool)


@pytest.mark.parametrize("prefetch", [0, 3])
def test_cancelled_ainvoke_starts_none_of_its_queued_nodes(prefetch: int) -> None:
    pool = ThreadPool(max_workers=2, prefetch=prefetch)
    try:
        for attempt in range(5):
            starts = Starts()
            graph = wide_graph(starts, pool)

            async def cancel_soon(graph=graph) -> tuple[float, float]:
                run = asyncio.ensure_future(graph.ainvoke({}))
                await asyncio.sleep(0.1)
                asked = time.monotonic()
                run.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await run
                return asked, time.monotonic()

            asked, cancelled = asyncio.run(cancel_soon())
            assert len(starts.times) < WIDTH, "the run finished before it was cancelled"
            time.sleep(0.3)  # longer than a node body: late starts would show up
            late = starts.after(cancelled)
            assert late == [], f"try {attempt}: {late} started after the cancellation returned"
            # while the cancellation is carried out, each worker that finishes a
            # body may take one more; no more than that
            assert len(starts.after(asked)) <= 2, f"try {attempt}: {starts.after(asked)}"
            assert starts.peak <= 2, f"try {attempt}: {starts.peak} bodies ran at once"
            assert wait_until(lambda: pool.stats().busy == 0)
            stats = pool.stats()
            assert (stats.busy, stats.queued, stats.active_runs, stats.abandoned) == (0, 0, 0, 0)
            assert stats.workers <= 2
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_closing_a_stream_starts_none_of_its_queued_nodes() -> None:
    pool = ThreadPool(max_workers=2)
    try:
        starts = Starts()
        chunks = wide_graph(starts, pool).stream({}, stream_mode="updates")
        next(chunks)  # one node finished; most of the others wait in the queue
        chunks.close()
        closed = time.monotonic()
        time.sleep(0.3)
        assert starts.after(closed) == []
        assert len(starts.times) < WIDTH
        assert wait_until(lambda: pool.stats().busy == 0)
        assert pool.stats().active_runs == 0
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_closing_an_astream_starts_none_of_its_queued_nodes() -> None:
    pool = ThreadPool(max_workers=2)
    try:
        starts = Starts()
        graph = wide_graph(starts, pool)

        async def close_early() -> list[str]:
            chunks = graph.astream({}, stream_mode="updates")
            await chunks.__anext__()
            await chunks.aclose()
            closed = time.monotonic()
            await asyncio.sleep(0.3)  # the loop runs on, as in a server
            return starts.after(closed)

        assert asyncio.run(close_early()) == []
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_an_ainvoke_cancelled_while_waiting_for_admission_leaves_no_active_run() -> None:
    pool = ThreadPool(max_workers=1, queue_size=1)
    gate = threading.Event()
    try:
        pool.submit(gate.wait, 30)
        assert wait_until(lambda: pool.stats().busy == 1)
        pool.submit(lambda: None)  # one task waits: the queue is full, admission waits

        starts = Starts()
        graph = wide_graph(starts, pool)

        async def cancel_while_held() -> None:
            run = asyncio.ensure_future(graph.ainvoke({}))
            await asyncio.sleep(0.2)
            run.cancel()
            with pytest.raises(asyncio.CancelledError):
                await run
            gate.set()  # room again: the abandoned admission goes through now

        asyncio.run(cancel_while_held())
        assert wait_until(lambda: pool.stats().busy == 0 and pool.stats().queued == 0)
        time.sleep(0.2)
        assert starts.times == []
        assert pool.stats().active_runs == 0
    finally:
        gate.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _slow_pair(lib_graph, seen: list[str]):
    """``quick`` finishes at once, ``slow`` would sleep 30 s (and notes its cancel)."""

    async def slow(state: dict) -> dict:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("slow cancelled")
            raise
        return {}

    async def quick(state: dict) -> dict:
        return {"log": ["quick"]}

    class T(TypedDict, total=False):
        log: Annotated[list, operator.add]

    b = lib_graph.StateGraph(T)
    b.add_node("slow", slow)
    b.add_node("quick", quick)
    b.add_edge(lib_graph.START, "slow")
    b.add_edge(lib_graph.START, "quick")
    return b


@pytest.mark.timeout(30)
@pytest.mark.parametrize("lib", ["graphpool", "langgraph"])
def test_step_timeout_cancels_the_step_and_raises_timeout_error(lib: str) -> None:
    import importlib

    seen: list[str] = []
    graph = _slow_pair(importlib.import_module(f"{lib}.graph"), seen).compile()
    graph.step_timeout = 0.3

    async def go() -> list:
        chunks = []
        with pytest.raises(TimeoutError):
            async for chunk in graph.astream({}, stream_mode="updates"):
                chunks.append(chunk)
        return chunks

    started = time.monotonic()
    assert asyncio.run(go()) == [{"quick": {"log": ["quick"]}}]
    assert time.monotonic() - started < 10
    assert seen == ["slow cancelled"]  # before the error reached the caller


@pytest.mark.timeout(30)
@pytest.mark.parametrize("lib", ["graphpool", "langgraph"])
def test_closing_astream_events_early_cancels_the_running_node(lib: str) -> None:
    import contextlib
    import importlib

    seen: list[str] = []
    graph = _slow_pair(importlib.import_module(f"{lib}.graph"), seen).compile()

    async def go() -> None:
        async with contextlib.aclosing(graph.astream_events({}, version="v2")) as events:
            async for event in events:
                if event["event"] == "on_chain_stream" and not event["parent_ids"]:
                    break
        seen.append("closed")

    asyncio.run(go())
    assert seen == ["slow cancelled", "closed"]
