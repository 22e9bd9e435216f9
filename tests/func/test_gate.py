"""A run's ``max_concurrency`` (and its pool's size) bound its task calls running at once.

Each task counts the calls inside their bodies under a lock and waits until the
bound was reached once (so a gate that let fewer through fails too), then stays
a little longer, so that a call the bound should hold back has time to come in
and show (the assertions are on counts only, never on times).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import graphpool
from graphpool.func import entrypoint, task
from graphpool.func._gate import Gate, Slot

pytestmark = pytest.mark.timeout(60)


class Inside:
    """How many calls are inside their bodies now, and the most at once."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.now = self.peak = 0
        self.lock = threading.Lock()
        self.reached = threading.Event()

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            if self.now >= self.bound:
                self.reached.set()

    def leave(self) -> None:
        with self.lock:
            self.now -= 1

    def hold(self) -> None:
        """Stay inside until ``bound`` calls were inside at once (or give up after 10 s)."""
        self.enter()
        try:
            self.reached.wait(10)
            time.sleep(0.02)  # room for a call beyond the bound to enter
        finally:
            self.leave()


@pytest.mark.parametrize("limit", [1, 3])
def test_a_fan_out_never_runs_more_than_max_concurrency_calls(limit: int) -> None:
    inside = Inside(limit)

    @task
    def work(i: int) -> int:
        inside.hold()
        return i

    @entrypoint()
    def main(n: int) -> int:
        return sum(f.result() for f in [work(i) for i in range(n)])

    assert main.invoke(24, {"max_concurrency": limit}) == sum(range(24))
    assert inside.peak == limit


def test_max_workers_in_the_config_bounds_task_calls_too() -> None:
    inside = Inside(2)

    @task
    def work(i: int) -> int:
        inside.hold()
        return i

    @entrypoint()
    def main(n: int) -> list[int]:
        return [f.result() for f in [work(i) for i in range(n)]]

    assert main.invoke(10, {"max_workers": 2}) == list(range(10))
    assert inside.peak == 2


def test_the_pools_size_bounds_task_calls() -> None:
    pool = graphpool.ThreadPool(max_workers=3, name="bounded")
    inside = Inside(2)  # the entrypoint may hold the third worker while it waits

    @task
    def work(i: int) -> int:
        inside.hold()
        return i

    @entrypoint(pool=pool)
    def main(n: int) -> int:
        return sum(f.result() for f in [work(i) for i in range(n)])

    try:
        assert main.invoke(20) == sum(range(20))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert 2 <= inside.peak <= 3


def test_tasks_waiting_on_tasks_lend_their_slot_so_one_slot_never_deadlocks() -> None:
    inside = Inside(1)

    @task
    def leaf(x: int) -> int:
        inside.enter()
        time.sleep(0.02)  # room for a second leaf to enter
        inside.leave()
        return x + 1

    @task
    def middle(x: int) -> int:
        return sum(f.result() for f in [leaf(x), leaf(x)])

    @task
    def top(x: int) -> int:
        return sum(f.result() for f in [middle(x), middle(x + 1)])

    @entrypoint()
    def main(xs: list[int]) -> list[int]:
        return [f.result() for f in [top(x) for x in xs]]

    assert main.invoke([0, 10], {"max_concurrency": 1}) == [6, 46]
    assert inside.peak == 1


def test_async_task_calls_are_bounded_on_the_callers_loop() -> None:
    state = {"now": 0, "peak": 0}

    async def run() -> int:
        reached = asyncio.Event()

        @task
        async def work(i: int) -> int:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            if state["now"] >= 2:
                reached.set()
            try:
                await asyncio.wait_for(reached.wait(), 10)
                await asyncio.sleep(0.02)  # room for a call beyond the bound to enter
            finally:
                state["now"] -= 1
            return i

        @task
        async def pair(i: int) -> int:
            return sum(await asyncio.gather(work(i), work(i)))

        @entrypoint()
        async def main(n: int) -> int:
            return sum(await asyncio.gather(*[pair(i) for i in range(n)]))

        return await main.ainvoke(6, {"max_concurrency": 2})

    assert asyncio.run(run()) == 2 * sum(range(6))
    assert state["peak"] == 2


def test_a_gate_hands_a_slot_given_back_to_the_oldest_waiter() -> None:
    gate = Gate(1)
    order: list[str] = []
    gate.enter(lambda: order.append("a"))
    gate.enter(lambda: order.append("b"))
    gate.enter(lambda: order.append("c"))
    assert order == ["a"] and gate.taken == 1
    gate.leave()
    assert order == ["a", "b"]
    slot = Slot(gate)  # as held by "b"
    slot.release()
    slot.release()  # a second release gives nothing back
    assert order == ["a", "b", "c"] and gate.taken == 1
    gate.leave()
    assert gate.taken == 0
