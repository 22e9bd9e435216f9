"""``TaskFuture``: a concurrent future that is awaitable and reclaims queued work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import operator

import pytest
from polling import wait_until

import graphpool
from graphpool.func._future import QueuedCall, TaskFuture, done_future

pytestmark = pytest.mark.timeout(30)


def test_it_follows_the_inner_future() -> None:
    inner: concurrent.futures.Future[int] = concurrent.futures.Future()
    outer: TaskFuture[int] = TaskFuture(inner)
    assert not outer.done()
    inner.set_result(3)
    assert outer.result() == 3
    failing: concurrent.futures.Future[int] = concurrent.futures.Future()
    wrapped: TaskFuture[int] = TaskFuture(failing)
    failing.set_exception(KeyError("x"))
    with pytest.raises(KeyError):
        wrapped.result()


def test_it_can_be_awaited() -> None:
    async def go() -> int:
        inner: concurrent.futures.Future[int] = concurrent.futures.Future()
        outer: TaskFuture[int] = TaskFuture(inner)
        asyncio.get_running_loop().call_soon(inner.set_result, 5)
        return await outer + await done_future(1)

    assert asyncio.run(go()) == 6


def test_a_waiter_runs_its_still_queued_call_itself() -> None:
    pool = graphpool.ThreadPool(max_workers=1)
    gate = concurrent.futures.Future()
    try:
        blocker = pool.submit(gate.result)  # the only worker waits on the gate
        queued = pool.submit(lambda: "mine")
        assert TaskFuture(queued, pool).result(timeout=5) == "mine"
        gate.set_result(None)
        blocker.result(timeout=5)
    finally:
        if not gate.done():
            gate.set_result(None)
        pool.shutdown(wait=True, cancel_futures=True)


def _blocked_pool() -> tuple[graphpool.ThreadPool, concurrent.futures.Future[None]]:
    """A one-thread pool whose only worker waits on the returned gate."""
    pool = graphpool.ThreadPool(max_workers=1)
    gate: concurrent.futures.Future[None] = concurrent.futures.Future()
    pool.submit(gate.result)
    assert wait_until(lambda: pool.stats().busy == 1)
    return pool, gate


def test_a_queued_call_is_the_pools_future_and_its_waiter_runs_it() -> None:
    pool, gate = _blocked_pool()
    ran: list[str] = []
    try:
        call: QueuedCall[str] = QueuedCall(pool, "lane", lambda x: ran.append(x) or x, ("a",))
        pool.queue(call)
        assert pool.stats().queued == 1  # the call itself waits in the queue
        assert call.result(timeout=5) == "a"  # run here: the only worker is blocked
        assert ran == ["a"]
    finally:
        gate.set_result(None)
        pool.shutdown(wait=True, cancel_futures=True)


def test_a_queued_call_cancelled_while_it_waits_never_runs() -> None:
    pool, gate = _blocked_pool()
    ran: list[int] = []
    try:
        call: QueuedCall[None] = QueuedCall(pool, "lane", ran.append, (1,))
        pool.queue(call)
        assert call.cancel()
        assert pool.stats().queued == 0
        with pytest.raises(concurrent.futures.CancelledError):
            call.result(timeout=5)
        gate.set_result(None)
        pool.submit(lambda: None).result(timeout=5)  # the worker went past it
        assert ran == []
    finally:
        if not gate.done():
            gate.set_result(None)
        pool.shutdown(wait=True, cancel_futures=True)


def test_a_queued_call_is_settled_by_its_worker_and_can_be_awaited() -> None:
    pool = graphpool.ThreadPool(max_workers=1)
    try:
        failing: QueuedCall[None] = QueuedCall(pool, "lane", operator.truediv, (1, 0))
        pool.queue(failing)
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=5)

        async def go() -> int:
            call: QueuedCall[int] = QueuedCall(pool, "lane", operator.add, (2, 3))
            pool.queue(call)
            return await call

        assert asyncio.run(go()) == 5
    finally:
        pool.shutdown(wait=True)
