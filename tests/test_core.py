"""The sans-I/O core driven by a scripted fake driver and a fake clock: no threads,
no sleeps, the same result on every run (h11's ``test_connection.py`` pattern).

The fake driver is a tiny discrete-event simulation: a launched attempt finishes
``duration(node, attempt)`` seconds of fake time later; ``Wait(timeout)`` advances
the clock to the next finish or to the timeout, whichever comes first.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from graphpool import END, START, RetryPolicy, StateGraph
from graphpool._config import RunOptions
from graphpool._context import CURRENT
from graphpool._core import (
    Abandon,
    Emit,
    Launch,
    Observed,
    Outcome,
    ResumePlan,
    Run,
    Save,
    Task,
    Wait,
)
from graphpool._core.records import task_id
from graphpool.checkpoint.base import Checkpoint, TaskResult
from graphpool.errors import NodeTimeoutError
from graphpool.types import Command, interrupt


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


def _execute(run: Run, task: Task) -> Outcome:
    """One attempt's body, with the node and its routes called right here."""
    body = run.body(task)
    value: Any = None
    try:
        callee, arg = body.send(None)
        while True:
            token = CURRENT.set(run.asking(task))
            try:
                value = callee.fn(arg)
            finally:
                CURRENT.reset(token)
            callee, arg = body.send(value)
    except StopIteration as stop:
        return Outcome(task, stop.value, None)
    except BaseException as exc:
        return Outcome(task, None, exc)


class FakeDriver:
    """Runs a core loop to the end in fake time; records every event."""

    def __init__(
        self,
        duration: Callable[[str, int], float] = lambda node, attempt: 1.0,
        tie_break: Callable[[list[Outcome]], list[Outcome]] = lambda outs: outs,
        lag: float = 0.0,
    ) -> None:
        self.clock = FakeClock()
        self.duration = duration
        self.tie_break = tie_break
        self.lag = lag  # a busy driver: it wakes this much after a Wait's timeout
        self.events: list[Any] = []
        self.pending: list[tuple[float, Outcome]] = []

    def run(self, run: Run, input: Any, alone: Any = None) -> list[Any]:
        loop = run.loop(input, alone)
        reply: Any = None
        while True:
            try:
                event = loop.send(reply)
            except StopIteration:
                return self.events
            self.events.append(event)
            reply = None
            if isinstance(event, Launch):
                task = event.task
                took = 0.0 if task.node == START else self.duration(task.node, task.attempt)
                end = self.clock.now + took
                outcome = _execute(run, task)
                outcome.ended = end  # as a runner's job stamps it
                self.pending.append((end, outcome))
            elif isinstance(event, Wait):
                reply = self._wait(event.timeout)
            elif isinstance(event, Abandon):
                self.pending = [p for p in self.pending if p[1].task is not event.task]

    def _wait(self, timeout: float | None) -> list[Outcome]:
        assert self.pending or timeout is not None, "the core waits for nothing"
        first = min((end for end, _ in self.pending), default=float("inf"))
        if timeout is not None and self.clock.now + timeout < first:
            self.clock.now += timeout + self.lag
            if self.clock.now < first:
                return []
        self.clock.now = max(self.clock.now, first)
        done = [o for end, o in self.pending if end <= self.clock.now]
        self.pending = [p for p in self.pending if p[0] > self.clock.now]
        return self.tie_break(done)


def _make_run(
    graph: Any, driver: FakeDriver, modes: tuple[str, ...] = ("values",), **kw: Any
) -> Run:
    options = RunOptions.from_config(kw.pop("config", None))
    return Run(graph.topology, options, modes, clock=driver.clock, **kw)


def _final(events: list[Any]) -> Any:
    values = [e.chunk for e in events if isinstance(e, Emit) and e.mode == "values"]
    return values[-1] if values else None


class Fan(TypedDict):
    results: Annotated[list, operator.add]


def _fan(width: int) -> Any:
    builder = StateGraph(Fan)
    builder.add_node("start", lambda s: {"results": ["start"]})
    for i in range(width):
        builder.add_node(f"w{i}", lambda s, i=i: {"results": [f"w{i}"]})
        builder.add_edge("start", f"w{i}")
        builder.add_edge(f"w{i}", "collect")
    builder.add_node("collect", lambda s: {"results": [f"collected {len(s['results'])}"]})
    builder.add_edge(START, "start")
    builder.add_edge("collect", END)
    return builder.compile()


def test_fan_out_runs_without_threads_and_merges_in_langgraph_order() -> None:
    driver = FakeDriver(duration=lambda node, attempt: {"w0": 3.0, "w1": 1.0}.get(node, 2.0))
    events = driver.run(_make_run(_fan(3), driver), {"results": []})
    assert _final(events) == {"results": ["start", "w0", "w1", "w2", "collected 4"]}
    launched = [e.task.node for e in events if isinstance(e, Launch)]
    # the START task runs no user code: the core settles it without a Launch
    assert launched == ["start", "w0", "w1", "w2", "collect"]
    # the step of w0..w2 lasted as long as its slowest task, in fake time
    assert driver.clock.now == pytest.approx(2 + 3 + 2)


def test_max_concurrency_holds_launches_back() -> None:
    driver = FakeDriver()
    run = _make_run(_fan(4), driver, config={"max_concurrency": 2})
    events = driver.run(run, {"results": []})
    in_flight = peak = 0
    for event in events:
        if isinstance(event, Launch):
            in_flight += 1
            peak = max(peak, in_flight)
        elif isinstance(event, Wait):
            in_flight = 0  # every fake attempt of this graph takes the same time
    assert peak == 2
    assert _final(events)["results"][-1] == "collected 5"


class Counter(TypedDict):
    n: int


def _chain(*nodes: str, **kw: Any) -> Any:
    builder = StateGraph(Counter)
    previous = START
    for name in nodes:
        builder.add_node(name, lambda s: {"n": s["n"] + 1}, **kw.get(name, {}))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    return builder.compile()


def test_a_tight_run_hands_lone_tasks_to_alone_and_launches_the_ones_it_cannot_run() -> None:
    driver = FakeDriver()
    run = _make_run(_chain("a", "b", "c", "d"), driver, final_only=True)
    ran: list[str] = []

    def alone(task: Task) -> Outcome | None:
        if task.node == "c":  # say its pool cannot run it here: it goes out as a Launch
            return None
        ran.append(task.node)
        return _execute(run, task)

    events = driver.run(run, {"n": 0}, alone)
    assert ran == ["a", "b", "d"]
    assert [e.task.node for e in events if isinstance(e, Launch)] == ["c"]
    assert _final(events) == {"n": 4}


def test_a_lone_task_that_failed_in_alone_is_retried_by_the_general_loop() -> None:
    policy = RetryPolicy(max_attempts=2, initial_interval=0.5, jitter=False)
    driver = FakeDriver()
    run = _make_run(_chain("a", "b", b={"retry_policy": policy}), driver, final_only=True)
    attempts: list[tuple[str, int]] = []

    def alone(task: Task) -> Outcome | None:
        attempts.append((task.node, task.attempt))
        if task.node == "b" and task.attempt == 1:
            return Outcome(task, None, ConnectionError("flaky"))
        return _execute(run, task)

    events = driver.run(run, {"n": 0}, alone)
    # the failed attempt waited its backoff, and its retry went out as a Launch
    assert attempts == [("a", 1), ("b", 1)]
    assert [(e.task.node, e.task.attempt) for e in events if isinstance(e, Launch)] == [("b", 2)]
    assert [e.timeout for e in events if isinstance(e, Wait)][:1] == [0.5]
    assert _final(events) == {"n": 2}


def _one_node(fn: Callable[[Any], Any], **node_kw: Any) -> Any:
    builder = StateGraph(Counter)
    builder.add_node("work", fn, **node_kw)
    builder.add_edge(START, "work")
    builder.add_edge("work", END)
    return builder.compile()


def test_a_timeout_abandons_the_attempt_and_the_retry_succeeds() -> None:
    policy = RetryPolicy(max_attempts=2, initial_interval=0.5, jitter=False)
    graph = _one_node(lambda s: {"n": s["n"] + 1}, timeout=1.0, retry_policy=policy)
    driver = FakeDriver(duration=lambda node, attempt: 5.0 if attempt == 1 else 0.25)
    run = _make_run(graph, driver, observing=True)
    events = driver.run(run, {"n": 0})
    abandoned = [e for e in events if isinstance(e, Abandon)]
    assert [e.task.node for e in abandoned] == ["work"]
    ends = [e.end for e in events if isinstance(e, Observed) and e.end and e.task.node == "work"]
    assert ends == ["retried", "succeeded"]
    assert _final(events) == {"n": 1}
    # timed out at t=1, waited 0.5 s without a worker, ran 0.25 s
    assert driver.clock.now == pytest.approx(1.75)


def test_a_timeout_without_retries_fails_the_run_naming_the_node() -> None:
    graph = _one_node(lambda s: {"n": 1}, timeout=2.0)
    driver = FakeDriver(duration=lambda node, attempt: 10.0)
    with pytest.raises(NodeTimeoutError) as caught:
        driver.run(_make_run(graph, driver), {"n": 0})
    assert caught.value.node == "work" and caught.value.timeout == 2.0
    assert driver.clock.now == pytest.approx(2.0)


@pytest.mark.parametrize("lag", [0.0, 5.0])
def test_an_attempt_that_ends_past_its_timeout_fails_even_if_seen_late(lag: float) -> None:
    """A busy driver that wakes after an attempt's deadline, when the attempt has
    ended meanwhile (past its limit), still gets NodeTimeoutError: the outcome's
    ``ended`` stamp decides, not when the driver looked."""
    graph = _one_node(lambda s: {"n": 1}, timeout=2.0)
    driver = FakeDriver(duration=lambda node, attempt: 3.0, lag=lag)
    with pytest.raises(NodeTimeoutError) as caught:
        driver.run(_make_run(graph, driver), {"n": 0})
    assert caught.value.node == "work"


def test_an_attempt_that_ended_in_time_succeeds_even_if_seen_late() -> None:
    """``slow`` times out at t=1 and is retried; the driver, woken only at t=6 by
    that deadline, finds ``quick`` ended at t=1.2, within its own 10 s."""
    builder = StateGraph(Fan)
    policy = RetryPolicy(max_attempts=2, initial_interval=0.0, jitter=False)
    builder.add_node("slow", lambda s: {"results": ["slow"]}, timeout=1.0, retry_policy=policy)
    builder.add_node("quick", lambda s: {"results": ["quick"]}, timeout=10.0)
    builder.add_edge(START, "slow")
    builder.add_edge(START, "quick")
    durations = {("slow", 1): 5.0, ("slow", 2): 0.1, ("quick", 1): 1.2}
    driver = FakeDriver(duration=lambda node, attempt: durations[node, attempt], lag=5.0)
    events = driver.run(_make_run(builder.compile(), driver), {"results": []})
    assert _final(events) == {"results": ["quick", "slow"]}
    assert [e.task.node for e in events if isinstance(e, Abandon)] == []  # both had ended


def test_an_error_is_retried_by_policy_then_given_up_with_a_note() -> None:
    calls: list[int] = []

    def flaky(state: Counter) -> Counter:
        calls.append(1)
        raise RuntimeError(f"boom {len(calls)}")

    policy = RetryPolicy(
        max_attempts=3,
        initial_interval=1.0,
        backoff_factor=2.0,
        jitter=False,
        retry_on=RuntimeError,
    )
    driver = FakeDriver(duration=lambda node, attempt: 0.0)
    with pytest.raises(RuntimeError, match="boom 3") as caught:
        driver.run(_make_run(_one_node(flaky, retry_policy=policy), driver), {"n": 0})
    assert len(calls) == 3
    assert driver.clock.now == pytest.approx(1.0 + 2.0)  # the backoff, in fake time
    assert any("node 'work', attempt 3" in note for note in caught.value.__notes__)


def test_interrupt_then_resume_from_the_saved_records() -> None:
    seen: list[Any] = []

    def ask(state: Counter) -> Counter:
        answer = interrupt("how many?")
        seen.append(answer)
        return {"n": answer}

    graph = _one_node(ask)
    ids = iter(f"cp{i:03d}" for i in range(100))
    first = FakeDriver()
    run = _make_run(graph, first, plan=ResumePlan(durable=True), checkpoint_ids=lambda: next(ids))
    events = first.run(run, {"n": 0})
    saved = [e.record for e in events if isinstance(e, Save)]
    checkpoint = [r for r in saved if isinstance(r, Checkpoint)][-1]
    paused = [r for r in saved if isinstance(r, TaskResult) and r.interrupts]
    assert [r.node for r in paused] == ["work"] and seen == []
    assert _final(events)["__interrupt__"][0].value == "how many?"

    plan = ResumePlan(
        durable=True,
        checkpoint=checkpoint,
        resuming=True,
        reuse={r.task_id: r for r in saved if isinstance(r, TaskResult)},
        resume_by_id={paused[0].interrupts[0].id: 7},
        command=Command(resume=7),
    )
    second = FakeDriver()
    run = _make_run(graph, second, plan=plan, checkpoint_ids=lambda: next(ids))
    events = second.run(run, None)
    assert seen == [7]
    assert _final(events) == {"n": 7}


def test_a_fork_plan_saves_a_copy_first_and_names_the_tasks_after_it() -> None:
    graph = _one_node(lambda s: {"n": s["n"] + 1})
    ids = iter(f"cp{i:03d}" for i in range(100))
    first = FakeDriver()
    run = _make_run(graph, first, plan=ResumePlan(durable=True), checkpoint_ids=lambda: next(ids))
    saved = [e.record for e in first.run(run, {"n": 0}) if isinstance(e, Save)]
    before_work = [r for r in saved if isinstance(r, Checkpoint)][1]
    assert before_work.triggered and before_work.step == 0

    plan = ResumePlan(durable=True, checkpoint=before_work, resuming=True, fork=True)
    second = FakeDriver()
    run = _make_run(graph, second, plan=plan, checkpoint_ids=lambda: next(ids))
    records = [e.record for e in second.run(run, None) if isinstance(e, Save)]
    fork, result, last = records
    assert (fork.id, fork.step, fork.triggered, fork.values) == (
        "cp003",
        1,
        before_work.triggered,
        before_work.values,
    )
    assert [(r.step, r.values) for r in (fork, last)] == [(1, {"n": 0}), (2, {"n": 1})]
    assert [e.source for e in second.events if isinstance(e, Save)] == ["fork", "task", "loop"]
    # the task is named after the fork: a later resume of the fork matches it by id
    assert isinstance(result, TaskResult)
    assert result.task_id == task_id(fork.id, (0, "work"))


def test_final_only_emits_one_values_chunk() -> None:
    driver = FakeDriver()
    events = driver.run(_make_run(_fan(2), driver, final_only=True), {"results": []})
    chunks = [e for e in events if isinstance(e, Emit)]
    assert len(chunks) == 1
    assert chunks[0].chunk["results"] == ["start", "w0", "w1", "collected 3"]


@settings(max_examples=60, deadline=None)
@given(
    durations=st.lists(st.integers(min_value=0, max_value=3), min_size=5, max_size=5),
    shuffle=st.randoms(use_true_random=False),
)
def test_completion_order_never_changes_the_state(durations: list[int], shuffle: Any) -> None:
    """Whatever order and timing the attempts finish in, writes merge in LangGraph's order."""

    def tie_break(outcomes: list[Outcome]) -> list[Outcome]:
        outcomes = list(outcomes)
        shuffle.shuffle(outcomes)
        return outcomes

    names = ["start", "w0", "w1", "w2", "collect"]
    driver = FakeDriver(
        duration=lambda node, attempt: (
            float(durations[names.index(node)]) if node in names else 0.0
        ),
        tie_break=tie_break,
    )
    events = driver.run(_make_run(_fan(3), driver, ("values", "updates")), {"results": []})
    assert _final(events) == {"results": ["start", "w0", "w1", "w2", "collected 4"]}
    updates = [e.chunk for e in events if isinstance(e, Emit) and e.mode == "updates"]
    assert sorted(next(iter(u)) for u in updates) == sorted(names)


def test_a_run_leaves_no_reference_cycles_behind() -> None:
    """Everything a finished run made is freed by reference counting: garbage in
    cycles would wait for the collector, and its full passes over a large heap (a
    server's, or one with LangGraph loaded too) pause every thread."""
    import gc

    graph = _fan(3)
    for _ in range(3):
        graph.invoke({"results": []})
    list(graph.stream({"results": []}, stream_mode="updates"))
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(5):
            graph.invoke({"results": []})
            list(graph.stream({"results": []}, stream_mode="updates"))
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert left == []
