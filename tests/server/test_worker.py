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
