"""``DbThread``: calls one at a time in order, urgent ones first but never starving the
rest, errors to the caller, and a shutdown that runs what is queued."""

from __future__ import annotations

import threading

import pytest

from graphpool.errors import PoolShutDownError
from graphpool.server import _dbthread
from graphpool.server._dbthread import DbThread


def _blocked(db: DbThread) -> threading.Event:
    """Hold the thread in a call until the event returned is set."""
    gate, inside = threading.Event(), threading.Event()

    def hold() -> None:
        inside.set()
        gate.wait(30)

    db.submit(hold)
    assert inside.wait(30)
    return gate


@pytest.mark.timeout(30)
def test_urgent_calls_go_first_and_each_lane_keeps_its_order() -> None:
    db = DbThread()
    order: list[str] = []
    gate = _blocked(db)
    futures = [db.submit(lambda name=name: order.append(name)) for name in ("n1", "n2")]
    futures += [
        db.submit(lambda name=name: order.append(name), urgent=True) for name in ("u1", "u2")
    ]
    gate.set()
    for future in futures:
        future.result(30)
    db.shutdown()
    assert order == ["u1", "u2", "n1", "n2"]


@pytest.mark.timeout(30)
def test_a_stream_of_urgent_calls_lets_one_other_call_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_dbthread, "URGENT_STREAK", 2)
    db = DbThread()
    order: list[str] = []
    gate = _blocked(db)
    futures = [db.submit(lambda: order.append("n"))]
    futures += [db.submit(lambda i=i: order.append(f"u{i}"), urgent=True) for i in range(4)]
    gate.set()
    for future in futures:
        future.result(30)
    db.shutdown()
    assert order == ["u0", "u1", "n", "u2", "u3"]


@pytest.mark.timeout(30)
def test_errors_reach_the_caller_and_shutdown_runs_what_is_queued() -> None:
    db = DbThread()
    gate = _blocked(db)

    def fail() -> None:
        raise KeyError("gone")

    failing = db.submit(fail)
    queued = db.submit(lambda: 42)
    gate.set()
    db.shutdown()
    with pytest.raises(KeyError):
        failing.result(0)
    assert queued.result(0) == 42
    with pytest.raises(PoolShutDownError):
        db.submit(lambda: None)


@pytest.mark.timeout(30)
def test_a_call_cancelled_before_it_ran_is_skipped() -> None:
    db = DbThread()
    ran: list[int] = []
    gate = _blocked(db)
    skipped = db.submit(lambda: ran.append(1))
    assert skipped.cancel()
    gate.set()
    db.submit(lambda: ran.append(2)).result(30)
    db.shutdown()
    assert ran == [2]
