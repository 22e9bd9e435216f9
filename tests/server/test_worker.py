"""The worker without HTTP: a cancel that comes while a claim is out on the
database thread (the run may be about to begin here, or run on another server),
and the worker stopping while a run's end wakes it from another thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from typing_extensions import TypedDict

from graphpool.graph import START, StateGraph
from graphpool.server._admission import admit_run_async
from graphpool.server._runtime import Runtime
from graphpool.server._worker import Worker


class State(TypedDict, total=False):
    n: int


def _graph():  # type: ignore[no-untyped-def]
    def bump(state: State) -> State:
        return {"n": state.get("n", 0) + 1}

    return StateGraph(State).add_node("bump", bump).add_edge(START, "bump").compile()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("ran", [True, False], ids=["claimed-here", "claimed-elsewhere"])
def test_a_cancel_while_a_claim_is_out(tmp_path: Path, ran: bool) -> None:
    """The cancel returns False (so that on a shared database the caller asks the
    run's holder too) but is kept: a run this claim takes begins cancelled and ends
    interrupted, without running a step; a cancel for a run the claim did not take
    is dropped once the claim is back."""

    async def scenario() -> tuple[bool, str, set[str], int | None]:
        rt = Runtime({"g": _graph()}, str(tmp_path / "serve.db"))
        worker = Worker(rt, 2)
        gate, asked = threading.Event(), threading.Event()
        claim = worker._claim

        def gated(room: int):  # type: ignore[no-untyped-def]
            asked.set()
            gate.wait(30)
            return claim(room) if ran else []

        worker._claim = gated  # type: ignore[method-assign]
        try:
            thread_id = rt.storage.create_thread(None, {})[0]["thread_id"]
            run = await admit_run_async(rt, worker, thread_id, {"assistant_id": "g"})
            worker.start()
            await asyncio.to_thread(asked.wait, 30)  # the claim is out now
            answer = worker.cancel(run["run_id"])
            gate.set()
            if ran:
                events = rt.broker.get(run["run_id"])
                assert events is not None
                await events.finished()
            else:
                while worker._early:  # dropped after the claim returns (or the test times out)
                    await asyncio.sleep(0.01)
            status = rt.storage.get_run(run["run_id"])["status"]  # type: ignore[index]
            values = rt.graphs["g"].get_state({"configurable": {"thread_id": thread_id}}).values
            return answer, status, set(worker._early), values.get("n")
        finally:
            gate.set()
            await worker.stop()
            rt.close()

    answer, status, early, n = asyncio.run(scenario())
    assert answer is False
    assert early == set()
    if ran:
        assert (status, n) == ("interrupted", None)
    else:
        assert status == "pending"  # not claimed by the gated claim; still queued


@pytest.mark.timeout(30)
def test_a_run_admitted_with_room_begins_as_its_admission_returns(tmp_path: Path) -> None:
    """The admission's database hop claims the run too: it is running here when the
    admission returns, and the worker loop was not woken to claim it."""

    async def scenario() -> tuple[bool, bool, int | None]:
        rt = Runtime({"g": _graph()}, str(tmp_path / "serve.db"))
        worker = Worker(rt, 2)
        worker.start()
        try:
            await asyncio.sleep(0.05)  # the worker loop is waiting for work
            run = await admit_run_async(rt, worker, None, {"assistant_id": "g", "input": {}})
            begun = run["run_id"] in worker.running
            woken = rt.queue._wakeup is not None and rt.queue._wakeup.is_set()
            events = rt.broker.get(run["run_id"])
            assert events is not None
            await events.finished()
            return begun, woken, events.result["n"]  # type: ignore[index]
        finally:
            await worker.stop()
            rt.close()

    assert asyncio.run(scenario()) == (True, False, 1)


@pytest.mark.timeout(30)
def test_a_run_admitted_without_room_waits_for_the_worker_loop(tmp_path: Path) -> None:
    """With every slot taken, the admission claims nothing: the run stays pending
    and the worker loop takes it once the first run ends."""
    gate = threading.Event()

    def held(state: State) -> State:
        gate.wait(20)
        return {"n": 1}

    graph = StateGraph(State).add_node("held", held).add_edge(START, "held").compile()

    async def scenario() -> tuple[str, str]:
        rt = Runtime({"g": graph}, str(tmp_path / "serve.db"))
        worker = Worker(rt, 1)
        worker.start()
        try:
            body = {"assistant_id": "g", "input": {}, "on_completion": "keep"}
            first = await admit_run_async(rt, worker, None, body)
            second = await admit_run_async(rt, worker, None, body)
            waiting = rt.storage.get_run(second["run_id"])["status"]  # type: ignore[index]
            gate.set()
            for run in (first, second):
                events = rt.broker.get(run["run_id"])
                assert events is not None
                await events.finished()
            return waiting, rt.storage.get_run(second["run_id"])["status"]  # type: ignore[index]
        finally:
            gate.set()
            await worker.stop()
            rt.close()

    assert asyncio.run(scenario()) == ("pending", "success")


@pytest.mark.timeout(30)
def test_admissions_and_the_worker_loop_never_run_more_than_its_concurrency(
    tmp_path: Path,
) -> None:
    gate = threading.Event()

    def held(state: State) -> State:
        gate.wait(20)
        return {"n": 1}

    graph = StateGraph(State).add_node("held", held).add_edge(START, "held").compile()

    async def scenario() -> tuple[int, list[str]]:
        rt = Runtime({"g": graph}, str(tmp_path / "serve.db"))
        worker = Worker(rt, 2)
        worker.start()
        body = {"assistant_id": "g", "input": {}, "on_completion": "keep"}
        try:
            runs = []
            most = 0
            for _ in range(5):
                runs.append(await admit_run_async(rt, worker, None, body))
                await asyncio.sleep(0.05)  # the worker loop may claim meanwhile
                most = max(most, len(worker.running))
            gate.set()
            for run in runs:
                while rt.storage.get_run(run["run_id"])["status"] not in ("success", "error"):  # type: ignore[index]
                    most = max(most, len(worker.running))
                    await asyncio.sleep(0.02)
            return most, [rt.storage.get_run(r["run_id"])["status"] for r in runs]  # type: ignore[index]
        finally:
            gate.set()
            await worker.stop()
            rt.close()

    most, statuses = asyncio.run(scenario())
    assert most == 2
    assert statuses == ["success"] * 5
