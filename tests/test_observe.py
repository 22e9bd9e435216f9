"""Run observers and the ``graphpool`` logger: what each hook is told, and when."""

from __future__ import annotations

import logging
import operator
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from typing import Annotated, Any, TypedDict

import pytest

from graphpool import END, START, RetryPolicy, RunObserver, StateGraph, TaskAttempt

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def on_run_start(self, run_id: str) -> None:
        self.events.append(("run_start", run_id))

    def on_step(self, run_id: str, step: int, nodes: Sequence[str]) -> None:
        self.events.append(("step", step, list(nodes)))

    def on_task_start(self, run_id: str, step: int, node: str, attempt: int) -> None:
        self.events.append(("task_start", step, node, attempt))

    def on_task_end(self, attempt: TaskAttempt) -> None:
        self.events.append(("task_end", attempt.step, attempt.node, attempt.outcome))

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        self.events.append(("run_end", run_id, type(error).__name__ if error else None))


def retrying_graph() -> Any:
    calls = {"n": 0}

    def flaky(state: S) -> dict:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("once")
        return {"log": ["flaky"]}

    b = StateGraph(S)
    b.add_node("first", lambda s: {"log": ["first"]})
    b.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    b.add_edge(START, "first")
    b.add_edge("first", "flaky")
    b.add_edge("flaky", END)
    return b.compile()


def test_observer_hooks_in_order() -> None:
    rec = Recorder()
    retrying_graph().invoke({}, config={"observer": rec, "run_id": "r"})
    assert rec.events == [
        ("run_start", "r"),
        ("step", 1, ["first"]),
        ("task_start", 1, "first", 1),
        ("task_end", 1, "first", "succeeded"),
        ("step", 2, ["flaky"]),
        ("task_start", 2, "flaky", 1),
        ("task_end", 2, "flaky", "retried"),
        ("task_start", 2, "flaky", 2),
        ("task_end", 2, "flaky", "succeeded"),
        ("run_end", "r", None),
    ]


def test_observer_told_of_a_failed_run_and_of_streams() -> None:
    def boom(state: S) -> dict:
        raise ValueError("no")

    b = StateGraph(S)
    b.add_node("boom", boom)
    b.add_edge(START, "boom")
    rec = Recorder()
    with pytest.raises(ValueError):
        list(b.compile().stream({}, config={"observer": [rec], "run_id": "r"}))
    assert rec.events[-2:] == [("task_end", 1, "boom", "failed"), ("run_end", "r", "ValueError")]


def test_log_records_carry_run_step_and_node(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="graphpool"):
        retrying_graph().invoke({}, config={"run_id": "r42"})
    records = [r for r in caplog.records if r.name == "graphpool"]
    assert records and all(r.run_id == "r42" for r in records)  # type: ignore[attr-defined]
    retry = [r for r in records if r.levelno == logging.WARNING]
    assert len(retry) == 1
    assert (retry[0].step, retry[0].node) == (2, "flaky")  # type: ignore[attr-defined]
    assert "ConnectionError('once'); retrying" in retry[0].getMessage()
    tasks = [(r.step, r.node) for r in records if r.node]  # type: ignore[attr-defined]
    assert tasks.count((1, "first")) == 2  # started, succeeded


def test_silent_by_default() -> None:
    """A retry logs a WARNING, yet an application that set up no logging sees nothing."""
    script = textwrap.dedent(
        """
        import operator
        from typing import Annotated, TypedDict
        from graphpool import START, RetryPolicy, StateGraph

        class S(TypedDict):
            log: Annotated[list, operator.add]

        calls = []
        def flaky(state):
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionError("once")
            return {"log": ["ok"]}

        b = StateGraph(S)
        b.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.01))
        b.add_edge(START, "flaky")
        print(b.compile().invoke({"log": []}))
        """
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'log': ['ok']}"
    assert done.stderr == ""
