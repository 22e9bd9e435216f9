"""``@entrypoint``: injection, ``previous`` and ``final``, schemas, nesting, async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphpool.checkpoint import InMemorySaver
from graphpool.errors import InvalidGraphError
from graphpool.func import Entrypoint, entrypoint, task
from graphpool.types import Command, interrupt

pytestmark = pytest.mark.timeout(60)


def _thread(name: str = "t") -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def test_a_function_without_parameters_is_refused() -> None:
    with pytest.raises(InvalidGraphError, match="at least one parameter"):
        entrypoint()(lambda: 1)


def test_injected_parameters(tmp_path) -> None:
    from graphpool.store.memory import InMemoryStore

    store = InMemoryStore()

    @entrypoint(checkpointer=InMemorySaver(), store=store)
    def main(x, *, config, store, runtime, writer, previous=None):
        writer("hello")
        return {
            "thread": config["configurable"]["thread_id"],
            "store": store is not None,
            "runtime_previous": runtime.previous,
            "previous": previous,
        }

    assert isinstance(main, Entrypoint)
    first = main.invoke(1, _thread())
    assert first == {"thread": "t", "store": True, "runtime_previous": None, "previous": None}
    second = main.invoke(2, _thread())
    assert second["previous"] == first == second["runtime_previous"]
    assert list(main.stream(3, _thread("u"), stream_mode="custom")) == ["hello"]


def test_final_returns_one_value_and_saves_another() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def main(x: int, *, previous: Any = None) -> entrypoint.final[int, int]:
        return entrypoint.final(value=previous or 0, save=x * 10)

    assert [main.invoke(n, _thread()) for n in (1, 2, 3)] == [0, 10, 20]
    assert main.get_state(_thread()).values == 20  # the value returned, not the one saved


def test_schemas_follow_the_signature() -> None:
    @entrypoint()
    def main(x: list[int]) -> entrypoint.final[str, int]:
        return entrypoint.final(value="", save=0)

    assert main.get_input_jsonschema() == {
        "items": {"type": "integer"},
        "title": "LangGraphInput",
        "type": "array",
    }
    assert main.get_output_jsonschema() == {"title": "LangGraphOutput", "type": "string"}


def test_a_nested_entrypoint_runs_inside_its_caller_and_pauses_it() -> None:
    ran: list[str] = []

    @task
    def step(x: str) -> str:
        ran.append(x)
        return x + "!"

    @entrypoint()
    def child(x: str) -> str:
        return step(x).result() + interrupt("more?")

    @entrypoint(checkpointer=InMemorySaver())
    def parent(x: str) -> str:
        return child.invoke(x)

    paused = parent.invoke("a", _thread())
    assert [i.value for i in paused["__interrupt__"]] == ["more?"]
    assert parent.invoke(Command(resume="b"), _thread()) == "a!b"
    assert ran == ["a"]


def test_async_entrypoint_awaits_sync_and_async_tasks() -> None:
    @task
    async def slow(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @task
    def quick(x: int) -> int:
        return x * 2

    @entrypoint(checkpointer=InMemorySaver())
    async def main(x: int) -> int:
        a = await slow(x)
        b = await quick(a)
        answer = interrupt("ok?")
        return b + answer

    async def go() -> Any:
        first = await main.ainvoke(1, _thread())
        second = await main.ainvoke(Command(resume=100), _thread())
        return first, second

    first, second = asyncio.run(go())
    assert [i.value for i in first["__interrupt__"]] == ["ok?"]
    assert second == 104


def test_update_state_sets_previous() -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def main(x: int, *, previous: Any = None) -> Any:
        return [x, previous]

    main.update_state(_thread(), "seed")
    assert main.invoke(1, _thread()) == [1, "seed"]


def test_a_failing_entrypoint_waits_for_its_running_calls_and_drops_queued_ones() -> None:
    import threading

    from polling import wait_until

    import graphpool

    pool = graphpool.ThreadPool(max_workers=2, name="tiny")
    started, gate = threading.Event(), threading.Event()
    ran: list[int] = []
    futures: list[Any] = []

    @task
    def slow(i: int) -> int:
        started.set()
        gate.wait(10)
        ran.append(i)
        return i

    @entrypoint(pool=pool)
    def main(n: int) -> int:
        futures.extend(slow(i) for i in range(n))  # one runs; the entrypoint holds a worker
        started.wait(10)
        raise KeyError("boom")

    def open_gate_once_the_rest_are_cancelled() -> None:
        wait_until(lambda: len(futures) == 5 and all(f.cancelled() for f in futures[1:]))
        gate.set()

    helper = threading.Thread(target=open_gate_once_the_rest_are_cancelled)
    helper.start()
    try:
        with pytest.raises(KeyError):
            main.invoke(5)
        assert ran == [0]  # the running call finished before invoke returned
    finally:
        gate.set()
        helper.join()
        pool.shutdown(wait=True)  # runs whatever is still queued
    assert ran == [0]  # the queued calls were dropped, not left to run
