"""``TaskFuture``: a concurrent future that is awaitable and reclaims queued work."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

import graphpool
from graphpool.func._future import TaskFuture, done_future

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
