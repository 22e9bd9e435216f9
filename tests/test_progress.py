"""Progress displays: plain lines off a terminal, a live rich table on one."""

from __future__ import annotations

import io
import operator
import sys
from typing import Annotated, TypedDict

import pytest

from graphpool import START, RetryPolicy, StateGraph
from graphpool._progress import LiveProgress, PlainProgress, make_progress


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]


def graph():
    calls = {"n": 0}

    def flaky(state: S) -> dict:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("once")
        return {"log": ["flaky"]}

    b = StateGraph(S)
    b.add_node("a", lambda s: {"log": ["a"]})
    b.add_node("b", lambda s: {"log": ["b"]})
    b.add_node("flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False))
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    b.add_edge(["a", "b"], "flaky")
    return b.compile()


def test_plain_progress_lines() -> None:
    out = io.StringIO()
    graph().invoke({}, config={"observer": PlainProgress(out), "run_id": "r1"})
    lines = [line.split("] ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines[0] == "run r1 started"
    assert lines[1] == "step 1: a, b"
    assert "step 2  flaky: running" in lines
    assert "step 2  flaky: running (attempt 2)" in lines
    assert any(
        line.startswith("step 2  flaky: failed, will retry") and "ConnectionError" in line
        for line in lines
    )
    assert lines[-1].startswith("run r1 finished in ")
    assert lines[-1].endswith("3 tasks done in 2 steps, 1 retried, 0 failed")


def test_live_progress_table() -> None:
    out = io.StringIO()
    progress = LiveProgress(out, force_terminal=True)
    graph().invoke({}, config={"observer": progress, "run_id": "abcdef123"})
    text = out.getvalue()
    for word in ("graphpool run abcdef12", "step", "running", "retried", "failed", "a, b"):
        assert word in text
    table = progress._table()
    rows = list(zip(*(col._cells for col in table.columns), strict=True))
    assert rows == [("1", "0", "2", "0", "0", "a, b"), ("2", "0", "1", "1", "0", "flaky")]
    assert "3 tasks done in 2 steps, 1 retried, 0 failed" in text


def test_make_progress_modes() -> None:
    out = io.StringIO()  # not a terminal
    assert isinstance(make_progress(out), PlainProgress)
    assert isinstance(make_progress(out, "live"), LiveProgress)
    assert make_progress(out, "none") is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_without_rich_a_terminal_gets_plain_lines_and_a_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "rich.console", None)
    with pytest.raises(ImportError, match=r"graphpool\[cli\]"):
        LiveProgress(io.StringIO())
    out = _Terminal()
    assert isinstance(make_progress(out), PlainProgress)
    assert "pip install 'graphpool[cli]'" in out.getvalue()
    assert isinstance(make_progress(_Terminal(), "auto"), PlainProgress)
    monkeypatch.delitem(sys.modules, "rich.console")
    assert isinstance(make_progress(_Terminal(), "auto"), LiveProgress)


def test_the_nodes_column_lists_the_steps_nodes_while_running_and_after() -> None:
    from graphpool._observe import TaskAttempt

    progress = LiveProgress(io.StringIO(), force_terminal=True)

    def nodes_column() -> list[str]:
        return list(progress._table().columns[-1]._cells)

    def ended(node: str, outcome: str) -> TaskAttempt:
        return TaskAttempt("r", 1, node, 1, "w", 0.0, 0.0, outcome, None)

    for node in ("fetch", "fetch", "fetch", "rank"):
        progress.on_task_start("r", 1, node, 1)
    assert nodes_column() == ["fetch x3, rank"]
    progress.on_task_end(ended("rank", "succeeded"))
    progress.on_task_end(ended("fetch", "retried"))
    progress.on_task_start("r", 1, "fetch", 2)  # a retry: the same task, not a fourth
    assert nodes_column() == ["fetch x3, rank"]
    for _ in range(3):
        progress.on_task_end(ended("fetch", "succeeded"))
    assert nodes_column() == ["fetch x3, rank"]  # the same meaning once the step is over
