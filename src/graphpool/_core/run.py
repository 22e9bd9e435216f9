"""The run state machine: LangGraph's superstep (Pregel/BSP) semantics, sans I/O.

No threads, no event loop, no I/O, no clock of its own (h11's sans-I/O idea):
:meth:`Run.loop` is a generator that yields :mod:`events <graphpool._core.events>`
and is sent what happened. One dispatcher (``_dispatch.py``) and two thin
drivers (``_driver.py``, sync and async) carry the events out, and the core
tests (``tests/test_core.py``) drive it with a scripted fake driver and a fake
clock.

One step: every triggered node becomes a task (``step.make_tasks``); the tasks
run concurrently (at most ``max_concurrency`` at once; the failure manager
times and retries them); when all have finished, the result collector applies
their writes together in LangGraph's order and the step's routes trigger the
next step's tasks.

With a checkpointer (``durable``), a checkpoint is saved after every commit and
each task's result as it finishes; a run built from a :class:`ResumePlan`
continues a saved thread, reusing the saved results of its unfinished step.
``interrupt()`` in a node stops the run once the step's other tasks are done;
``interrupt_before``/``interrupt_after`` breakpoints stop it between steps
(``pausing.py``).
"""

from __future__ import annotations

import dataclasses
import datetime
import heapq
import uuid
from collections import deque
from collections.abc import Callable, Collection, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .._constants import END, INTERRUPT, START
from .._node import Callee
from .._topology import Topology
from ..checkpoint._records import Checkpoint, TaskResult
from ..errors import (
    GraphDrained,
    GraphInterrupt,
    GraphRecursionError,
    InternalError,
    InvalidUpdateError,
    SavedFailure,
    StepTimeoutError,
    is_invalid_resume,
)
from ..types import Command, Send
from . import pausing
from .chunks import Scope, checkpoint_payload
from .collector import Collector
from .events import Abandon, Emit, Event, Launch, Observed, Outcome, Save, Wait
from .failure import FailureManager
from .interrupts import Asking
from .records import FRESH, INPUT, ResumePlan, export, folded, restore, result_of, task_id
from .step import Router, make_tasks
from .task import PENDING, RUNNING, SUCCEEDED, Task

if TYPE_CHECKING:
    from .._config import RunOptions

__all__ = ["Clock", "Run"]

_NEVER = float("inf")
_COMMAND = "Command(update=...)"  # the writer a resume's update is reported as

Events = Generator[Event, Any, None]
Body = Generator[tuple[Callee, Any], Any, tuple[Any, list[tuple[str, Any]], list[Any]]]
Then = Callable[[Task], Generator[Event, Any, list[Task]]]
Alone = Callable[[Task], Outcome | None]  # see Run.loop


def _no_checkpoints() -> str:
    raise InternalError("a run without a checkpointer was asked for a checkpoint id")


_NO_SCOPE = Scope()  # a run's until it has a checkpointer (frozen: shared)


class Clock(Protocol):
    """Time as the driver gives it: ``monotonic()`` for deadlines, ``time()`` for stamps."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...


class Run:
    """One run of a compiled graph: its state, its step, and the loop that drives it.

    Args:
        topology: the compiled graph.
        options: the run's typed config.
        modes: the stream modes the caller asked for.
        clock: where deadlines and timestamps come from (the driver's).
        plan: how the run begins (fresh, or continuing a saved thread).
        checkpoint_ids: makes checkpoint ids (durable runs).
        interrupt_before / interrupt_after: breakpoints (node names or ``"*"``).
        observing: report every step and attempt as ``Observed`` events (failed
            and retried attempts are always reported).
        final_only: the caller wants only the final state (``invoke``): one
            ``values`` chunk at the end instead of one per step.
        on_output: called with each task and its node's return value, on the worker.
        control: the caller's ``RunControl``; once it asks to drain, the run stops
            before its next step with GraphDrained (the thread is saved, and can go on).
        every_key: ``values`` chunks show every state key, as LangGraph's ``stream()``
            does (else the output schema's keys, as its ``invoke()`` returns).
    """

    def __init__(
        self,
        topology: Topology,
        options: RunOptions,
        modes: Iterable[str],
        *,
        clock: Clock,
        plan: ResumePlan = FRESH,
        checkpoint_ids: Callable[[], str] | None = None,
        interrupt_before: Collection[str] = (),
        interrupt_after: Collection[str] = (),
        observing: bool = False,
        final_only: bool = False,
        on_output: Callable[[Task, Any], None] | None = None,
        control: Any = None,
        every_key: bool = False,
    ) -> None:
        self.topology = topology
        self.control = control  # a RunControl: a drain request stops the run between steps
        self.options = options
        self.modes = frozenset(modes)
        self.clock = clock
        self.state = Collector(topology, every_key=every_key)
        self.router = Router(topology)
        self._writable = frozenset(topology.writable.fields)  # (finish's hot path)
        self._edges = topology.edges
        self.failures = FailureManager(topology, options.run_id)
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.observing = observing
        self.final_only = final_only
        self.on_output = on_output
        # (a function, not a bound method: that would make the run a reference cycle)
        self.new_checkpoint_id = checkpoint_ids or _no_checkpoints
        self.step = 0
        self.stop = options.recursion_limit  # the last step this run may start
        self.checkpoint_id = ""
        self.start: tuple[Any, ...] = ()  # (input,) when restored to an input checkpoint
        self.answers: dict[str, list[Any]] = {}  # resume values consumed, by task id
        self.fresh = True  # state changed since the run (re)started: breakpoints may fire
        self.paused: tuple[Any, ...] | None = None  # why it stopped early: its interrupts
        self.step_timeout: float | None = None  # the graph's: seconds one step may take
        self._streams_tasks = "tasks" in self.modes or "debug" in self.modes
        self._streams_updates = "updates" in self.modes
        # nothing to observe, stream per task or save per task: a step of one task
        # may take run_tasks' fused path
        self._quiet = not (observing or self._streams_tasks or plan.durable or plan.resuming)
        self._values_wanted = "values" in self.modes
        # quiet, and nothing happens between steps either (no chunk, breakpoint or
        # drain request to look at): a fused step goes straight on to the next
        self._tight = (
            self._quiet
            and not self._streams_updates
            and not interrupt_before
            and not interrupt_after
            and control is None
            and (final_only or not self._values_wanted)
        )
        self._task_ids = 0
        self._values_due = False  # final_only: a values chunk would have gone out
        self._interrupts: list[Any] = []  # final_only: the interrupts of the run
        self.durable = plan.durable
        self.resuming = plan.resuming
        self.reuse = plan.reuse
        self.resume_by_id = plan.resume_by_id
        self.unaddressed = list(plan.unaddressed)
        self._restored = plan.checkpoint
        self._restored_from = (plan.parent_id, plan.source)
        self.scope = _NO_SCOPE  # where checkpoints go, as checkpoint chunks name it
        self._fork = plan.fork and plan.checkpoint is not None
        if plan.checkpoint is not None:
            restore(self, plan.checkpoint, pending=plan.resuming)
        if plan.step is not None:
            self.step = plan.step
        if plan.stop is not None:
            self.stop = plan.stop
        self._input_update: TaskResult | None = None  # saved when the run begins
        for update in plan.updates:
            self.state.write(list(update.writes), _COMMAND)
        if plan.command is not None:
            self._apply_command(plan.command, len(plan.updates))

    def __repr__(self) -> str:
        return f"<Run {self.options.run_id} step={self.step}>"

    def new_task_id(self) -> str:
        """An id for a task of a run without a checkpointer (events, interrupts)."""
        self._task_ids += 1
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.options.run_id}|{self._task_ids}"))

    def asking(self, task: Task) -> Asking:
        """What ``interrupt()`` talks to while ``task``'s node runs."""
        return Asking(self, task)

    # -- the loop ----------------------------------------------------------------

    def loop(self, input: Any, alone: Alone | None = None) -> Events:
        """Drive the run from ``input`` to the end; see :mod:`.events`.

        ``alone``, if the driver gives it, runs a step's lone task at once, here:
        it returns the task's Outcome, or None if it cannot (then the task goes
        out as a ``Launch``). A chain's steps then cost no event at all.

        (One generator, not one per phase: each level of ``yield from`` costs
        every event a hop.)
        """
        tasks = yield from self._begin(input)
        unlimited = self.topology.unlimited
        while tasks:
            control = self.control
            if control is not None and control.drain_requested:
                raise GraphDrained(control.drain_reason or "shutdown")
            paused: list[Task] | None = None
            if (
                len(tasks) == 1  # the fused path of a step of one task, nothing to tell
                and self._quiet
                and (task := tasks[0]).state is PENDING
                and task.limits is None  # no time limits: nothing to watch
                and task.node in unlimited
                and self.step_timeout is None
            ):
                tasks, launched = yield from self._fused(task, alone)
                if launched is None:  # it succeeded; the step goes on below
                    paused = []
                    if self._streams_updates:
                        yield from self._finished_events(task)
                elif launched:  # not run inline, or failed: the general loop takes it
                    paused = yield from self.run_tasks(tasks, launched=launched)
                else:  # the next step's tasks
                    continue
            if paused is None:
                if self.observing:
                    yield Observed(self.step, tasks=tasks)
                paused = yield from self.run_tasks(tasks)
            if paused:
                self.paused = tuple(i for t in paused for i in t.error.interrupts)  # type: ignore[union-attr]
                yield from pausing.after_interrupts(self, tasks)
                break
            wrote = self.state.commit(tasks)
            self.fresh = True
            if self.durable:
                yield from self.save_checkpoint(tasks, "loop")
            if self.interrupt_after and pausing.at_breakpoint(self, self.interrupt_after, tasks):
                if wrote:
                    yield from self.values()
                self.paused = ()
                yield from pausing.stop_at_breakpoint(self)
                break
            # As in LangGraph, a step's ``values`` chunk goes out once the next
            # step is prepared: an error preparing it (say, a pydantic state that
            # fails validation) leaves the chunk unsent.
            try:
                tasks = self.next_tasks()
            except GraphRecursionError:
                if wrote:
                    yield from self.values()
                raise
            if wrote:
                if self.final_only:  # the hot path of invoke(): no chunk, just a note
                    self._values_due = self._values_wanted
                else:
                    yield from self.values()
            if self.interrupt_before and pausing.at_breakpoint(self, self.interrupt_before, tasks):
                self.paused = ()
                yield from pausing.stop_at_breakpoint(self)
                break
        yield from self._last_values()

    def _last_values(self) -> Events:
        """The final ``values`` chunk of a run that streams only that (``invoke``)."""
        if self._values_due:
            chunk = self.state.output()
            if self._interrupts:
                chunk = {**chunk, INTERRUPT: self._interrupts}
            yield Emit("values", chunk)

    def _fused(
        self, task: Task, alone: Alone | None
    ) -> Generator[Event, Any, tuple[list[Task], tuple[Outcome | None] | tuple[()] | None]]:
        """The fused path of a step of one task, nothing to tell: launch it alone (the
        driver runs it inline if it can). Once it succeeded, a tight run (nothing to
        do between steps either) commits the step and fuses the next at once while
        steps are chain links: one task, no time limits.

        Returns ``(tasks, launched)``: ``([task], None)`` once a run that is not
        tight has its task succeeded; ``([task], (outcome or None,))`` if it was not
        run inline or failed; ``(next step's tasks, ())`` when a tight run reaches a
        step that is not fused (or the end, ``[]``).
        """
        state, topology = self.state, self.topology
        unlimited, pulls = topology.unlimited, topology.pulls
        starts = START not in topology.branches  # START runs no user code: settled here
        channels, output_keys, stop = state.channels, state.output_keys, self.stop
        # a step whose task wrote one key and has one edge on: no join to count,
        # nothing deferred, no Send: committed here, inline
        simple = not (topology.joins_from or topology.deferred)
        tight = self._tight
        done: Outcome | None
        while True:
            task.state = RUNNING  # task.start(), inline
            node = task.node
            if node == START and starts:
                done = self._started(task)
            elif alone is None or (done := alone(task)) is None:
                done = yield Launch(task, True)
            if done is None or done.error is not None:
                return [task], (done,)
            task.state = SUCCEEDED  # task.succeed(), inline
            task.output, writes, routes = done.result
            task.writes, task.routes = writes, routes
            if not tight:
                return [task], None
            if (
                simple
                and len(writes) == 1
                and len(routes) == 1
                and type(target := routes[0]) is str
                and not state.triggered
                and not state.sends
            ):
                key, value = writes[0]
                channels[key].update((value,), (node,))
                if key in output_keys:
                    self._values_due = self._values_wanted
                step = self.step = self.step + 1
                if step > stop:
                    raise self._too_deep()
                order, triggers = pulls[target]
                task = Task(step, target, order, triggers, state.node_input(target, stop - step))
                if target not in unlimited:
                    return [task], ()
            else:
                if state.commit([task]):
                    self._values_due = self._values_wanted
                tasks = self.next_tasks()
                if len(tasks) != 1 or (task := tasks[0]).limits is not None:
                    return tasks, ()
                if task.node not in unlimited:
                    return tasks, ()

    def save_checkpoint(self, tasks: Iterable[Task], source: str, **where: Any) -> Events:
        """Save the run's state now as a checkpoint (see ``records.export``), and send
        it to the ``checkpoints`` stream (and ``debug``, as a ``checkpoint`` event) as
        LangGraph's checkpoint events look."""
        parent = self.checkpoint_id
        checkpoint = export(self, tasks, **where)
        yield Save(checkpoint, source)
        yield from self._checkpoint_events(checkpoint, parent, source)

    def _checkpoint_events(self, checkpoint: Checkpoint, parent: str, source: str) -> Events:
        """``checkpoints`` and ``debug`` chunks for ``checkpoint`` (saved after ``parent``)."""
        if "checkpoints" not in self.modes and "debug" not in self.modes:
            return
        scope = self.scope
        if scope.thread_id is None:
            thread = (self.options.config.get("configurable") or {}).get("thread_id")
            scope = dataclasses.replace(scope, thread_id=thread)
        if scope.held:  # nothing was written since the run began
            parent = self._restored_from[0]
        payload = checkpoint_payload(
            scope, checkpoint, parent, source, self.state.output(), self._asked
        )
        if "checkpoints" in self.modes:
            yield Emit("checkpoints", payload)
        if "debug" in self.modes:
            stamp = datetime.datetime.fromtimestamp(self.clock.time(), datetime.timezone.utc)
            yield Emit(
                "debug",
                {
                    "step": checkpoint.step,
                    "timestamp": stamp.isoformat(),
                    "type": "checkpoint",
                    "payload": payload,
                },
            )

    def _asked(self, ident: str) -> tuple[dict[str, Any], ...]:
        """The pending interrupts a restored task asked, as LangGraph's checkpoint
        chunks show them (dicts)."""
        saved = self.reuse.get(ident)
        if saved is None:
            return ()
        return tuple(dataclasses.asdict(i) for i in saved.interrupts)

    def values(self, interrupts: Any = None) -> Events:
        """A ``values`` chunk of the state now (with ``interrupts``, if given)."""
        if "values" not in self.modes:
            return
        if self.final_only:
            self._values_due = True
            if interrupts:
                self._interrupts.extend(interrupts)
            return
        chunk = self.state.output()
        yield Emit("values", chunk if interrupts is None else {**chunk, INTERRUPT: interrupts})

    def _begin(self, input: Any) -> Generator[Event, Any, list[Task]]:
        """The first step's tasks: START with the input, or where a restored run left off."""
        if self.resuming and self._restored is not None and not self._fork:
            # LangGraph streams it first (a fork streams its copy instead)
            yield from self._checkpoint_events(self._restored, *self._restored_from)
        if not self.resuming:
            if self.durable:
                yield from self.save_checkpoint((), "input", step=self.step - 1, start=(input,))
            return [self.start_task(input)]
        if self._fork and self._restored is not None:
            # time travel: a copy of the checkpoint starts the new branch (it takes
            # a step number, as LangGraph's fork does); its tasks are named after it
            self.step += 1
            yield from self.save_checkpoint((), "fork", start=self.start, ran=self._restored.ran)
        return (yield from self._resumed_tasks())

    def _resumed_tasks(self) -> Generator[Event, Any, list[Task]]:
        """The first step of a restored run, reusing what its tasks saved.

        As in LangGraph, the state it resumes from goes out as a ``values``
        chunk; tasks whose saved result succeeded are marked done with those
        writes (their update is streamed with ``{"__metadata__": {"cached":
        True}}``); tasks that paused in ``interrupt()`` get back their answers.
        """
        self.fresh = False  # a breakpoint it stopped at does not fire again
        if self._input_update is not None and not self._fork:  # a fork holds the update
            yield Save(self._input_update, "task")
        yield from self.values()
        if self.start:  # an input checkpoint: START still has to apply the input
            self.step += 1
            tasks = [self.start_task(self.start[0])]
        else:
            tasks = self.next_tasks()
        for i, task in enumerate(tasks):
            saved = self.reuse.get(task.id)
            if saved is not None and saved.error is not None:  # failed, with a handler?
                stand_in = self.failures.handler_task(task, SavedFailure(saved.error))
                if stand_in is not None:
                    stand_in.id = task_id(self.checkpoint_id, (2, stand_in.order))
                    tasks[i] = task = stand_in
                    saved = self.reuse.get(task.id)
            if saved is not None and saved.succeeded:
                task.start()
                task.succeed(None, list(saved.writes), list(saved.routes))
                if "updates" in self.modes and task.node != START:
                    update = self.state.update_of(task)
                    yield Emit("updates", {task.node: update, "__metadata__": {"cached": True}})
            elif saved is not None and saved.interrupts:
                self.answers[task.id] = list(saved.answers)
        return tasks

    def start_task(self, input: Any) -> Task:
        """The START task that applies ``input`` (named after the current checkpoint)."""
        task = Task(self.step, START, (0, START), (START,), input)
        if self.durable:
            task.id = task_id(self.checkpoint_id, task.order)
        return task

    def next_tasks(self) -> list[Task]:
        """The tasks of the next step; raises GraphRecursionError past the limit."""
        self.step += 1
        if self.step > self.stop:
            raise self._too_deep()
        state = self.state
        if len(state.triggered) == 1 and not state.sends and not self.topology.deferred:
            node, triggers = state.triggered.popitem()  # a chain's step: one pull task
            input = state.node_input(node, self.stop - self.step)
            tasks = [Task(self.step, node, (0, node), triggers, input)]
        else:
            triggered, sends = state.take_next()
            tasks = make_tasks(self.step, triggered, sends, state, self.stop - self.step)
        if self.durable:  # ids a resumed run can match saved results by
            for task in tasks:
                task.id = task_id(self.checkpoint_id, task.order)
        return tasks

    def _too_deep(self) -> GraphRecursionError:
        return GraphRecursionError(
            f"Recursion limit of {self.options.recursion_limit} reached without hitting a "
            "stop condition. You can increase the limit by setting the `recursion_limit` "
            "config key."
        )

    # -- running a step's tasks -------------------------------------------------

    def prepare(self, task: Task) -> None:
        """Last moment before a task starts (superstep tasks are ready when made)."""

    def run_tasks(
        self, tasks: list[Task], then: Then | None = None, launched: tuple[Any, ...] = ()
    ) -> Generator[Event, Any, list[Task]]:
        """Run tasks within the concurrency limit, with timeouts and retries.

        Returns when every task has succeeded or paused in ``interrupt()`` (the
        paused ones are returned); raises the error of one that failed for good.
        ``then(task)``, if given, runs as each task succeeds and returns more
        tasks to run (eager scheduling); otherwise the set is fixed. All task
        state changes happen here (or in :meth:`_fused`, the path for a step of
        one task, which hands over to here as ``launched=(outcome or None,)``
        unless that task succeeded at once), on the scheduler's side, so a late
        result of an abandoned attempt can never touch a task.
        """
        clock, failures = self.clock, self.failures
        outcomes: list[Outcome] | None = None
        if launched:  # a lone task :meth:`_fused` launched (its outcome, if it ran inline)
            queue: deque[Task] = deque()
            running = 1
            if launched[0] is not None:
                outcomes = [launched[0]]
        else:
            queue = deque([t for t in tasks if t.state is PENDING] if self.resuming else tasks)
            running = 0
        limit = self.options.max_concurrency or len(queue) or 1
        if then is not None:
            limit = self.options.max_concurrency or 1 << 30
        retries: list[tuple[float, int, Task]] = []
        step_due = _NEVER if self.step_timeout is None else clock.monotonic() + self.step_timeout
        deadlines: dict[Task, float] = {}  # running tasks that have a timeout
        began: dict[Task, float] = {}  # when those started (their hard cap counts from it)
        remaining = len(queue) + running
        paused: list[Task] = []
        invalid: tuple[Task, BaseException] | None = None
        while remaining:
            now = clock.monotonic()
            while retries and retries[0][0] <= now:
                queue.append(heapq.heappop(retries)[2])
            while queue and running < limit and outcomes is None:
                task = queue.popleft()
                self.prepare(task)
                task.start()
                running += 1
                timeout = failures.first_deadline(task, now)
                if timeout is not None:
                    deadlines[task] = timeout
                    began[task] = now
                if self.observing:
                    yield Observed(task.step, task=task)
                if self._streams_tasks:
                    yield from self.task_event(task, start=True)
                alone = (
                    running == 1
                    and not queue
                    and not retries
                    and timeout is None
                    and step_due == _NEVER
                )
                done = yield Launch(task, alone)
                if done is not None:  # the driver ran it to the end at once
                    outcomes = [done]
                    break
            if outcomes is None:
                due = min(
                    min(deadlines.values(), default=_NEVER),
                    retries[0][0] if retries else _NEVER,
                    step_due,
                )
                outcomes = yield Wait(None if due == _NEVER else max(0.0, due - now))
                if step_due != _NEVER and not outcomes and clock.monotonic() >= step_due:
                    yield from self._step_timed_out(tasks)
                if deadlines:
                    now = clock.monotonic()
                    finished = {o.task for o in outcomes}
                    for task, deadline in list(deadlines.items()):
                        if deadline <= now and task not in finished:
                            later = failures.refreshed(task, began[task], now)
                            if later is not None:  # it showed progress: more time
                                deadlines[task] = later
                                continue
                            yield Abandon(task)
                            outcomes.append(Outcome(task, None, failures.timeout_error(task)))
            for outcome in outcomes:
                task, error = outcome.task, outcome.error
                running -= 1
                due = deadlines.pop(task, _NEVER)
                start = began.pop(task, _NEVER)
                # it ran past its limit, though a busy driver saw it only after it ended
                ended = outcome.ended
                if ended is not None and ended > due:
                    if failures.refreshed(task, start, ended) is None:
                        error = failures.timeout_error(task)
                if error is None:
                    task.succeed(*outcome.result)
                    remaining -= 1
                    if self.observing:
                        yield Observed(task.step, task=task, end="succeeded")
                    if self.durable:
                        yield Save(result_of(self, task), "task")
                    if self._streams_tasks or self._streams_updates:
                        yield from self._finished_events(task)
                    if then is not None:
                        more = yield from then(task)
                        queue.extend(more)
                        remaining += len(more)
                    continue
                task.fail(error)
                if isinstance(error, GraphInterrupt):
                    remaining -= 1
                    paused.append(task)
                    yield from pausing.interrupted(self, task)
                    continue
                delay = failures.retry_delay(task)
                if task.node != START:
                    yield Observed(
                        task.step, task=task, end="failed" if delay is None else "retried"
                    )
                stand_in = None if delay is not None else failures.handler_task(task, error)
                if stand_in is not None:  # its error handler runs in its place
                    if self.durable:  # the failure is kept: a resumed run runs the handler
                        yield Save(result_of(self, task), "task")
                        stand_in.id = task_id(self.checkpoint_id, (2, stand_in.order))
                    if task in tasks:
                        tasks[tasks.index(task)] = stand_in
                    queue.append(stand_in)
                    continue
                if delay is None:
                    if is_invalid_resume(error):  # keeps the question; others finish first
                        remaining -= 1
                        invalid = invalid or (task, error)
                        continue
                    if self.durable:
                        yield Save(result_of(self, task), "task")
                    yield from self.task_event(task, start=False)
                    raise failures.given_up(task, error)
                task.retry_later()
                if running == 0 and not queue and not retries:  # nothing else to wait for
                    yield Wait(delay, backoff=True)  # a sleep the caller can see (and patch)
                    queue.append(task)
                else:
                    heapq.heappush(retries, (clock.monotonic() + delay, id(task), task))
            outcomes = None
        if invalid is not None:  # an answer that failed its interrupt's response_schema
            yield from self.task_event(invalid[0], start=False)
            raise failures.given_up(*invalid)
        return paused

    def _step_timed_out(self, tasks: list[Task]) -> Events:
        """The step ran past ``step_timeout``: stop its running tasks, fail the run."""
        running = [t for t in tasks if t.state is RUNNING]
        for task in running:
            yield Abandon(task)
        raise StepTimeoutError(
            f"Step {self.step} timed out after {self.step_timeout:g} s (step_timeout); "
            f"still running: {[t.node for t in running]}.",
            step=self.step,
            nodes=tuple(t.node for t in running),
        )

    # -- inside a task (runs on a worker) -----------------------------------------

    def body(self, task: Task) -> Body:
        """What a task does; yields ``(callee, argument)`` for the driver to call.

        For a node's task, the first call is the node itself. Then its return
        value becomes writes and routes (:meth:`finish`), and each conditional
        route is called on the state as the node left it (the step's start
        state plus this task's own writes, not its siblings').
        """
        topology = self.topology
        node = task.node
        if node == START:
            output, writes, routes = self._start_writes(task)
        else:
            output = yield (topology.nodes[node].callee, task.input)
            output, writes, edges = self.finish(task, output)
            routes = list(edges)
        for branch in topology.branches.get(node, ()):
            result = yield (branch.path, self.state.state_after(task, writes, branch.input_schema))
            for target in branch.destinations(result):
                if target != END:
                    routes.append(self.router.check(node, target))
        return output, writes, routes

    def _start_writes(self, task: Task) -> tuple[Any, list[tuple[str, Any]], list[Any]]:
        """The START task's input as writes, and its edges."""
        output = task.input
        writes = [] if output is None else self.topology.input.writes_of(START, output)
        return output, writes, list(self.topology.edges.get(START, ()))

    def _started(self, task: Task) -> Outcome:
        """The outcome of a START task whose edges are fixed (no routes to call)."""
        try:
            return Outcome(task, self._start_writes(task), None)
        except Exception as exc:  # bad input: the task's error, as if it ran
            return Outcome(task, None, exc)

    def finish(self, task: Task, output: Any) -> tuple[Any, list[tuple[str, Any]], Sequence[Any]]:
        """A node's return value as writes and routes (its edges; no conditional ones).

        All there is to a task whose node has no conditional edges
        (``topology.plain``): the dispatcher then calls the node and this, with
        no :meth:`body` generator.
        """
        if self.on_output is not None:
            self.on_output(task, output)
        node = task.node
        routes: Sequence[Any]
        if type(output) is dict and self._writable.issuperset(output):  # the usual return
            writes = list(output.items())
            routes = self._edges.get(node, ())
        else:  # (the router warns of a dict's keys it drops)
            writes, routes = self.router.interpret(node, output)
            routes.extend(self._edges.get(node, ()))
        if task.pushed:  # written while the node ran, so first
            writes = [*task.pushed, *writes]
        return output, writes, routes

    # -- stream events -----------------------------------------------------------

    def _finished_events(self, task: Task) -> Events:
        if task.node == START:
            return
        if self._streams_updates:
            update: dict[str, Any] = {task.node: self.state.update_of(task)}
            if task.cached:
                update["__metadata__"] = {"cached": True}
            yield Emit("updates", update)
        if self._streams_tasks:
            yield from self.task_event(task, start=False)

    def task_event(self, task: Task, *, start: bool) -> Events:
        """``tasks`` and ``debug`` chunks for a task starting or ending."""
        if task.node == START or not self._streams_tasks:
            return
        if not task.id:
            task.id = self.new_task_id()
        if start:
            payload: dict[str, Any] = {
                "id": task.id,
                "name": task.node,
                "input": task.input,
                "triggers": task.triggers,
            }
        else:
            error = task.error
            paused = isinstance(error, GraphInterrupt)
            payload = {
                "id": task.id,
                "name": task.node,
                "error": error if error is not None and not paused else None,
                "result": folded(task.writes),  # every key, under invoke() too (LangGraph's)
                "interrupts": list(error.interrupts) if isinstance(error, GraphInterrupt) else [],
            }
        if "tasks" in self.modes:
            yield Emit("tasks", payload)
        if "debug" in self.modes:
            stamp = datetime.datetime.fromtimestamp(self.clock.time(), datetime.timezone.utc)
            yield Emit(
                "debug",
                {
                    "step": task.step,
                    "timestamp": stamp.isoformat(),
                    "type": "task" if start else "task_result",
                    "payload": payload,
                },
            )

    # -- a Command given as input --------------------------------------------------

    def _apply_command(self, command: Command, earlier: int) -> None:
        """A resume ``Command``'s state update, then its routes (resume values are in
        the plan already). The update is saved with the checkpoint it was given to
        (``earlier`` updates were before it), so a later resume of the same step
        applies it again, as LangGraph's pending writes are."""
        if command.graph == Command.PARENT:
            raise InvalidUpdateError("Command(graph=Command.PARENT) as input: there is no parent.")
        writes, _ = self.router.command("Command(update=...)", Command(update=command.update))
        self.state.write(writes, _COMMAND)
        if writes and self.durable:
            ident = f"{INPUT}:{earlier:06d}:{self.checkpoint_id}"  # sorts in the order given
            self._input_update = TaskResult(ident, INPUT, tuple(writes))
        for target in command.goto_items():
            self.router.check("Command(goto=...)", target)
            if isinstance(target, Send):
                self.state.sends.append(target)
            else:
                self.state.triggered[target] = ("branch:to:" + target,)
