"""ProcessPool: shutdown, scaling, argument checks and crash mapping.

Every pool a test makes is shut down afterwards and each worker process it
ever ran is killed by pid (the ``make_pool`` fixture); nodes report their pid
through files, so even a worker the pool lost track of is found.
"""

from __future__ import annotations

import concurrent.futures
import operator
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, TypedDict

import pytest
from polling import wait_until

from graphpool import START, ProcessPool, StateGraph, ThreadPool
from graphpool._pool import Pools
from graphpool._pool._pickling import dumps_for_worker
from graphpool.errors import PoolShutDownError, TaskCancelledError

pytestmark = pytest.mark.timeout(120)


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone while it was read
        return False


class Tracker:
    """Pools made by a test, and every worker pid seen; all cleaned up at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pools: list[ProcessPool] = []
        self.pids: set[int] = set()

    def __call__(self, *args, **kwargs) -> ProcessPool:
        pool = ProcessPool(*args, **kwargs)
        self.pools.append(pool)
        return pool

    def seen(self) -> set[int]:
        for pool in self.pools:
            self.pids.update(pool.worker_pids())
        for file in self.folder.glob("*.pid"):
            text = file.read_text().strip()
            if text:
                self.pids.add(int(text))
        return self.pids

    def close(self) -> None:
        pids = self.seen()
        for pool in self.pools:
            pool.shutdown(wait=False, cancel=True)
        for pid in pids:
            kill(pid)


@pytest.fixture
def make_pool(tmp_path: Path) -> Iterator[Tracker]:
    tracker = Tracker(tmp_path)
    yield tracker
    tracker.close()


def hold(pid_file: str, gate: str, value: int) -> int:
    """Runs in a worker: say which process runs it, then wait for ``gate`` to appear."""
    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    deadline = time.monotonic() + 60
    while not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


def started(path: Path) -> Callable[[], bool]:
    return lambda: path.exists() and path.read_text().strip() != ""


# -- shutdown -------------------------------------------------------------------------


def test_submitting_after_shutdown_raises_pool_shut_down_error(make_pool) -> None:
    pool = make_pool(1)
    assert pool.submit(os.getpid).result(30) != os.getpid()
    pool.shutdown()
    for attempt in (
        lambda: pool.submit(os.getpid),
        lambda: pool.submit_in("run", os.getpid),
        lambda: pool.submit_call(b"", "run"),
        lambda: pool.admit("run"),
    ):
        with pytest.raises(PoolShutDownError, match=r"ProcessPool.*shut down"):
            attempt()
    assert issubclass(PoolShutDownError, RuntimeError)


def test_shutdown_without_wait_lets_admitted_calls_finish(make_pool, tmp_path: Path) -> None:
    pool = make_pool(1)
    gate = tmp_path / "gate"
    first = pool.submit(hold, str(tmp_path / "a.pid"), str(gate), 1)
    queued = [pool.submit(hold, str(tmp_path / f"{i}.pid"), str(gate), i) for i in (2, 3)]
    assert wait_until(started(tmp_path / "a.pid"))
    pool.shutdown(wait=False)
    gate.touch()
    assert [f.result(30) for f in (first, *queued)] == [1, 2, 3]
    worker = int((tmp_path / "a.pid").read_text())
    assert wait_until(lambda: not alive(worker)), "the worker outlived its pool"


def test_shutdown_with_cancel_stops_running_and_queued_calls(make_pool, tmp_path: Path) -> None:
    pool = make_pool(1)
    gate = tmp_path / "gate"  # never created: the running call would wait 60 s
    running = pool.submit(hold, str(tmp_path / "a.pid"), str(gate), 1)
    queued = pool.submit(hold, str(tmp_path / "b.pid"), str(gate), 2)
    assert wait_until(started(tmp_path / "a.pid"))
    worker = int((tmp_path / "a.pid").read_text())
    began = time.monotonic()
    pool.shutdown(wait=True, cancel=True)
    assert time.monotonic() - began < 15
    for future in (running, queued):
        with pytest.raises(concurrent.futures.CancelledError):
            future.result(10)
    assert not (tmp_path / "b.pid").exists()  # the queued call never ran
    assert wait_until(lambda: not alive(worker)), "the worker running the call was not stopped"


class Fan(TypedDict, total=False):
    log: Annotated[list, operator.add]


def held_fan_out(tmp_path: Path, width: int, gate: Path) -> StateGraph:
    """``width`` process nodes in parallel, each holding its worker until ``gate`` exists."""
    b = StateGraph(Fan)
    for i in range(width):
        b.add_node(
            f"n{i}",
            lambda s, i=i: {"log": [hold(str(tmp_path / f"n{i}.pid"), str(gate), i)]},
            executor="process",
        )
        b.add_edge(START, f"n{i}")
    return b


@pytest.mark.parametrize("cancel", [False, True])
def test_shutting_the_pool_down_mid_run(make_pool, tmp_path: Path, cancel: bool) -> None:
    # Three process nodes on one worker: one runs, two wait. Without cancel they
    # all finish; with it the run fails naming a node, and promptly.
    gate = tmp_path / "gate"
    graph = held_fan_out(tmp_path, 3, gate).compile()
    process = make_pool(1)
    threads = ThreadPool(max_workers=4)
    graph._pools = Pools(threads, lambda: process)
    outcome: list[object] = []
    runner = threading.Thread(target=lambda: outcome.append(_run(graph)))
    runner.start()
    try:
        assert wait_until(lambda: any(started(p)() for p in tmp_path.glob("n*.pid")))
        process.shutdown(wait=False, cancel=cancel)
        if not cancel:
            gate.touch()
        runner.join(30)
        assert not runner.is_alive(), "the run never ended"
    finally:
        gate.touch()
        runner.join(30)
        threads.shutdown(wait=True, cancel=True)
    if cancel:
        assert isinstance(outcome[0], TaskCancelledError), outcome
        assert outcome[0].node in {"n0", "n1", "n2"}
        assert "shut down" in str(outcome[0])
    else:
        assert outcome == [{"log": [0, 1, 2]}]


def _run(graph) -> object:
    try:
        return graph.invoke({})
    except Exception as exc:
        return exc


# -- scaling --------------------------------------------------------------------------


def pids_of(tmp_path: Path, names) -> list[int]:
    return [int((tmp_path / f"{name}.pid").read_text()) for name in names]


def test_workers_start_as_work_waits_and_retire_when_idle(make_pool, tmp_path: Path) -> None:
    pool = make_pool(2, idle_timeout=0.5)
    assert (pool.stats().workers, pool.worker_pids()) == (0, [])  # nothing started ahead
    gate = tmp_path / "gate"
    calls = [pool.submit(hold, str(tmp_path / f"{i}.pid"), str(gate), i) for i in range(2)]
    assert wait_until(lambda: all(started(tmp_path / f"{i}.pid")() for i in range(2)))
    first, second = pids_of(tmp_path, range(2))
    assert first != second  # both ran at once, in two processes
    stats = pool.stats()
    assert (stats.workers, stats.busy, stats.idle) == (2, 2, 0)
    gate.touch()
    assert [c.result(30) for c in calls] == [0, 1]
    assert wait_until(lambda: pool.stats().busy == 0)
    assert wait_until(lambda: pool.stats().workers == 0), pool.stats()
    assert wait_until(lambda: not alive(first) and not alive(second)), "idle workers kept"
    assert pool.submit(os.getpid).result(30) not in (first, second, os.getpid())  # a new one


def test_a_warm_minimum_is_started_ahead_and_kept(make_pool, tmp_path: Path) -> None:
    pool = make_pool(2, min_workers=1, idle_timeout=0.3)
    assert wait_until(lambda: len(pool.worker_pids()) == 1)
    (warm,) = pool.worker_pids()
    stats = pool.stats()
    assert (stats.workers, stats.busy, stats.idle) == (1, 0, 1)
    gate = tmp_path / "gate"
    calls = [pool.submit(hold, str(tmp_path / f"{i}.pid"), str(gate), i) for i in range(2)]
    assert wait_until(lambda: all(started(tmp_path / f"{i}.pid")() for i in range(2)))
    assert warm in pids_of(tmp_path, range(2))  # the warm worker took a call
    assert pool.stats().workers == 2
    gate.touch()
    assert [c.result(30) for c in calls] == [0, 1]
    assert wait_until(lambda: pool.stats().workers == 1)
    time.sleep(1.0)  # well past idle_timeout: the last one stays
    assert pool.stats().workers == 1 and len(pool.worker_pids()) == 1


def count_at_once(folder: str, me: int) -> int:
    """Runs in a worker: how many calls (files in ``folder``) run beside this one."""
    mine = os.path.join(folder, f"{me}.running")
    with open(mine, "w"):
        pass
    try:
        time.sleep(0.2)
        return len([f for f in os.listdir(folder) if f.endswith(".running")])
    finally:
        os.remove(mine)


def test_never_more_processes_than_max_workers(make_pool, tmp_path: Path) -> None:
    pool = make_pool(2, idle_timeout=0.05)  # workers come and go between calls
    peaks = []
    calls = [pool.submit(count_at_once, str(tmp_path), i) for i in range(12)]
    while not all(c.done() for c in calls):
        stats = pool.stats()
        peaks.append((stats.workers, stats.busy, len(pool.worker_pids())))
        time.sleep(0.01)
    assert max(c.result() for c in calls) <= 2
    assert max(max(p) for p in peaks) <= 2, peaks


# -- isolation --------------------------------------------------------------------


def die_or_wait(pid_file: str, gate: str, die: bool) -> int:
    with open(pid_file, "w") as f:
        f.write(str(os.getpid()))
    if die:
        deadline = time.monotonic() + 60
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        os._exit(3)
    return hold(pid_file, gate, 7)


def test_a_dying_worker_fails_only_its_own_call(make_pool, tmp_path: Path) -> None:
    import pebble

    pool = make_pool(2)
    gate = tmp_path / "gate"
    dying = pool.submit(die_or_wait, str(tmp_path / "a.pid"), str(gate), True)
    living = pool.submit(die_or_wait, str(tmp_path / "b.pid"), str(gate), False)
    assert wait_until(lambda: started(tmp_path / "a.pid")() and started(tmp_path / "b.pid")())
    gate.touch()
    with pytest.raises(pebble.ProcessExpired):
        dying.result(30)
    assert living.result(30) == 7
    assert pool.submit(os.getpid).result(30) != os.getpid()  # the pool healed
    assert pool.stats().workers <= 2


class DieOnArrival:
    """Unpickling it ends the process: the worker dies before it acknowledges its call."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_worker_dying_on_arrival_is_a_crash_of_its_call(make_pool) -> None:
    # pebble calls a process that died before it acknowledged its task a broken
    # pool; for a worker of one process running one call it is that call's crash.
    import pebble

    pool = make_pool(2)
    for future in [pool.submit(len, DieOnArrival()) for _ in range(3)]:
        with pytest.raises(pebble.ProcessExpired):
            future.result(60)
    assert pool.submit(os.getpid).result(30) != os.getpid()
    assert pool.stats().workers <= 2


def test_abandoning_a_running_call_kills_its_worker(make_pool, tmp_path: Path) -> None:
    pool = make_pool(1)
    stuck = pool.submit(hold, str(tmp_path / "a.pid"), str(tmp_path / "never"), 1)
    assert wait_until(started(tmp_path / "a.pid"))
    pid = int((tmp_path / "a.pid").read_text())
    pool.abandon(stuck)
    assert stuck.cancelled()
    assert wait_until(lambda: not alive(pid), 10), "the abandoned call's worker still runs"
    assert pool.submit(os.getpid).result(30) not in (pid, os.getpid())
    assert pool.stats().workers == 1


# -- arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "named"),
    [
        ((0,), {}, r"\(max_workers=0\): max_workers must be >= 1"),
        (("x",), {}, r"\(max_workers='x'\): max_workers must be a whole number >= 1"),
        ((2.5,), {}, r"\(max_workers=2.5\): max_workers must be a whole number"),
        ((True,), {}, r"\(max_workers=True\): max_workers must be a whole number"),
        ((2,), {"min_workers": -1}, r"\(min_workers=-1\): min_workers must be >= 0"),
        ((2,), {"min_workers": 3}, r"\(max_workers=2, min_workers=3\): min_workers must be <="),
        ((2,), {"idle_timeout": -1}, r"\(idle_timeout=-1\): idle_timeout must be a finite"),
        ((2,), {"idle_timeout": float("nan")}, r"\(idle_timeout=nan\): idle_timeout must"),
        ((2,), {"idle_timeout": "abc"}, r"\(idle_timeout='abc'\): idle_timeout must"),
        ((2,), {"queue_size": 0}, r"\(queue_size=0\): queue_size must be >= 1"),
    ],
)
def test_bad_arguments_fail_naming_parameter_and_value(args, kwargs, named) -> None:
    from graphpool.errors import InvalidPoolConfigError

    with pytest.raises(InvalidPoolConfigError, match=f"^ProcessPool{named}"):
        ProcessPool(*args, **kwargs)


# -- node calls: the pool maps its own failures -----------------------------------


def test_call_returns_the_node_value_and_raises_the_node_error(make_pool) -> None:
    pool = make_pool(1)
    assert pool.call(dumps_for_worker("n", lambda s: s["x"] + 1, {"x": 1}), node="n") == 2

    def bad(state):
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        pool.call(dumps_for_worker("bad", bad, {}), "run-1", node="bad")


@pytest.mark.parametrize(
    ("how", "reason"), [("exit", "exit code 3"), ("signal", "killed by SIGKILL")]
)
def test_a_dead_worker_is_a_worker_crashed_error_naming_the_call(make_pool, how, reason) -> None:
    import pebble

    from graphpool import WorkerCrashedError

    def die(state):
        if how == "exit":
            os._exit(3)
        os.kill(os.getpid(), signal.SIGKILL)

    pool = make_pool(1)
    future = pool.submit_call(dumps_for_worker("boom", die, {}), "run-7")
    with pytest.raises(
        WorkerCrashedError, match=rf"'boom' died \({reason}; attempt 2, run run-7\)"
    ) as e:
        pool.result(future, node="boom", attempt=2, run_id="run-7")
    assert (e.value.node, e.value.attempt, e.value.run_id) == ("boom", 2, "run-7")
    assert isinstance(e.value.__cause__, pebble.ProcessExpired)
    assert pool.call(dumps_for_worker("n", len, "abc"), node="n") == 3  # healed


def test_a_call_on_a_shut_down_pool_is_a_task_cancelled_error(make_pool) -> None:
    pool = make_pool(1)
    pool.shutdown()
    with pytest.raises(TaskCancelledError, match=r"'n' was not started.*shut down") as e:
        pool.call(dumps_for_worker("n", len, "abc"), node="n", attempt=1, run_id="r")
    assert e.value.node == "n" and isinstance(e.value.__cause__, PoolShutDownError)


def test_a_call_stopped_by_shutdown_or_abandoned_is_a_task_cancelled_error(
    make_pool, tmp_path: Path
) -> None:
    never = str(tmp_path / "never")
    pool = make_pool(1)
    handles: list[concurrent.futures.Future] = []
    caller = concurrent.futures.ThreadPoolExecutor(2)
    try:
        payload = dumps_for_worker("slow", lambda s: hold(s, never, 0), str(tmp_path / "a.pid"))
        first = caller.submit(pool.call, payload, node="slow", submitted=handles.append)
        assert wait_until(started(tmp_path / "a.pid"))
        pool.abandon(handles[0])  # as a timeout does: the worker is killed
        with pytest.raises(TaskCancelledError, match=r"'slow' was cancelled.*abandoned"):
            first.result(30)
        payload = dumps_for_worker("slow", lambda s: hold(s, never, 0), str(tmp_path / "b.pid"))
        second = caller.submit(pool.call, payload, node="slow", attempt=2, run_id="r")
        assert wait_until(started(tmp_path / "b.pid"))
        pool.shutdown(wait=False, cancel=True)
        with pytest.raises(TaskCancelledError, match=r"'slow' was cancelled.*was shut down"):
            second.result(30)
    finally:
        caller.shutdown(wait=True)
