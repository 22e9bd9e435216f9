"""``@task``: declaring, naming, calling outside a run, retries, cache, executors."""

from __future__ import annotations

import functools
import os

import pytest

from graphpool.cache.memory import InMemoryCache
from graphpool.errors import InvalidGraphError, NotInNodeError, UnsupportedError
from graphpool.func import entrypoint, task
from graphpool.types import CachePolicy, RetryPolicy

pytestmark = pytest.mark.timeout(60)


def test_names_default_to_the_function_and_can_be_given() -> None:
    def base(prefix: str, value: str) -> str:
        return prefix + value

    assert task(base).name == "base"
    assert task(functools.partial(base, "x")).name == "base"
    assert task(name="custom")(lambda v: v).name == "custom"


def test_calling_a_task_outside_a_run_is_a_runtime_error() -> None:
    @task
    def alone() -> int:
        return 1

    with pytest.raises(NotInNodeError) as caught:
        alone()
    assert isinstance(caught.value, RuntimeError)


def test_generators_and_unknown_executors_are_refused() -> None:
    def gen(x: int):
        yield x

    with pytest.raises(UnsupportedError):
        task(gen)
    with pytest.raises(NotImplementedError):
        entrypoint()(gen)
    with pytest.raises(InvalidGraphError, match="executor"):
        task(executor="gpu")(lambda x: x)


def test_a_retry_policy_reruns_a_failing_call() -> None:
    attempts: list[int] = []

    class Flaky(Exception):
        pass

    @task(retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.0, jitter=False))
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise Flaky
        return x

    @entrypoint()
    def main(x: int) -> int:
        return flaky(x).result()

    assert main.invoke(4) == 4
    assert attempts == [4, 4, 4]


def test_a_cached_task_does_not_run_again_for_the_same_arguments() -> None:
    ran: list[int] = []

    @task(cache_policy=CachePolicy(ttl=60))
    def costly(x: int) -> int:
        ran.append(x)
        return x * x

    @entrypoint(cache=InMemoryCache())
    def main(xs: list[int]) -> list[int]:
        return [f.result() for f in [costly(x) for x in xs]]

    assert main.invoke([2, 3]) == [4, 9]
    assert main.invoke([3, 2, 5]) == [9, 4, 25]
    assert sorted(ran) == [2, 3, 5]
    costly.clear_cache(main.graph.cache)
    assert main.invoke([2]) == [4]
    assert sorted(ran) == [2, 2, 3, 5]


def _pid(x: int) -> tuple[int, int]:
    return x, os.getpid()


@pytest.mark.slow
def test_a_process_task_runs_in_a_worker_process(pools) -> None:
    in_process = task(executor="process")(_pid)

    @entrypoint()
    def main(xs: list[int]) -> list[tuple[int, int]]:
        return [f.result() for f in [in_process(x) for x in xs]]

    main.graph._pools = pools  # the fixture's pools, torn down by pid
    found = main.invoke([3, 4])
    assert [value for value, _ in found] == [3, 4]
    assert all(pid != os.getpid() for _, pid in found)


@pytest.mark.slow
def test_the_entrypoints_executor_is_the_default_of_its_tasks(pools) -> None:
    plain = task(_pid)

    @entrypoint(executor="process")
    def main(x: int) -> list[tuple[int, int]]:
        return [plain(x).result(), plain(x + 1).result()]

    main.graph._pools = pools
    assert all(pid != os.getpid() for _, pid in main.invoke(1))
    assert all(pid == os.getpid() for _, pid in main.invoke(1, {"executor": "thread"}))
