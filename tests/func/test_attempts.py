"""A sync call's attempts: timeouts (a process worker killed), retries, late results."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from graphpool.errors import NodeTimeoutError
from graphpool.func import entrypoint, task
from graphpool.types import RetryPolicy

pytestmark = pytest.mark.timeout(60)


def test_a_thread_task_past_its_timeout_fails_and_its_late_result_is_dropped() -> None:
    release = threading.Event()
    finished: list[str] = []

    @task(timeout=0.2)
    def stuck() -> str:
        release.wait(10)
        finished.append("late")
        return "late"

    @entrypoint()
    def main(x: int) -> str:
        return stuck().result()

    try:
        with pytest.raises(NodeTimeoutError) as caught:
            main.invoke(1)
        assert caught.value.node == "stuck"
    finally:
        release.set()


def test_a_timed_out_attempt_is_retried() -> None:
    attempts: list[int] = []
    release = threading.Event()

    @task(
        timeout=1.0,
        retry_policy=RetryPolicy(
            max_attempts=2, initial_interval=0.0, jitter=False, retry_on=NodeTimeoutError
        ),
    )
    def slow_once() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            release.wait(10)
        return len(attempts)

    @entrypoint()
    def main(x: int) -> int:
        return slow_once().result()

    try:
        assert main.invoke(1) == 2
    finally:
        release.set()  # the abandoned first attempt ends


def test_an_async_task_past_its_timeout_is_cancelled() -> None:
    cancelled: list[bool] = []

    @task(timeout=0.1)
    async def sleepy() -> str:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "never"

    @entrypoint()
    async def main(x: int) -> str:
        return await sleepy()

    with pytest.raises(NodeTimeoutError):
        asyncio.run(main.ainvoke(1))
    assert cancelled == [True]


def _hang(path: str) -> int:
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(30)
    return 0


@pytest.mark.slow
def test_a_process_task_past_its_timeout_has_its_worker_killed(pools, tmp_path) -> None:
    hang = task(timeout=3.0, executor="process")(_hang)
    warm = task(executor="process")(os.getpid)
    marker = str(tmp_path / "pid")

    @entrypoint()
    def main(x: int) -> int:
        return hang(marker).result()

    @entrypoint()
    def warm_up(x: int) -> int:
        return warm().result()

    main.graph._pools = warm_up.graph._pools = pools
    warm_up.invoke(1)  # the timeout counts from the call: start the workers first
    with pytest.raises(NodeTimeoutError):
        main.invoke(1)
    pid = int(open(marker).read())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"worker {pid} still runs after the timeout")


def test_a_timeout_policy_limits_an_async_task_by_its_tighter_limit() -> None:
    from graphpool.types import TimeoutPolicy

    @task(timeout=TimeoutPolicy(run_timeout=30, idle_timeout=0.1))
    async def sleepy(x: int) -> int:
        await asyncio.sleep(5)
        return x

    @task(timeout=TimeoutPolicy(idle_timeout=30))
    async def quick(*, idle_timeout: int) -> int:  # the task's own kwarg is its own
        return idle_timeout

    @entrypoint()
    async def main(x: int) -> int:
        if x:
            return await sleepy(x)
        return await quick(idle_timeout=7)

    assert asyncio.run(main.ainvoke(0)) == 7
    with pytest.raises(NodeTimeoutError):
        asyncio.run(main.ainvoke(1))
