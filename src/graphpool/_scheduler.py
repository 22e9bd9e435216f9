"""The graph scheduler: LangGraph's superstep (Pregel/BSP) semantics as a pure state machine.

No threads, no event loop, no I/O here (h11's sans-I/O idea): :meth:`Run.loop` is a
generator that tells a driver what to do next and is told what happened::

    (LAUNCH, task, alone)  start this task (``alone``: it is the only one in flight)
    (WAIT, timeout)        block until one or more launched tasks finish; the driver
                           sends back ``(task, result, error)`` outcomes (maybe none
                           after ``timeout`` seconds, when a retry or deadline is due)
    (EMIT, mode, chunk)    hand a stream chunk to the caller
    (ABANDON, task)        stop waiting for a task that ran past its timeout, and
                           stop it as well as its executor can
    (SAVE, record, source) persist a Checkpoint or a TaskResult (only with a
                           checkpointer: ``run.checkpointing.save(record, source)``)

One step: every triggered node becomes a task; the tasks run concurrently (at
most ``max_concurrency`` at once); when all have finished their writes are
applied together, in a deterministic order (pull tasks by node name, then
``Send`` tasks in send order); the step's routes trigger the next step's tasks.
The thin drivers in ``_driver.py`` (threads, asyncio) run this same loop.

With a checkpointer (``durable``), a checkpoint is yielded after every commit
and each task's result as it finishes; a run can be restored from them
(``_runstate``), and the first step after a restore reuses the saved results
instead of rerunning those tasks. ``interrupt()`` in a node
(:class:`GraphInterrupt`) stops the run once the step's other tasks are done;
the ``interrupt_before``/``interrupt_after`` breakpoints stop it between steps
(``_pausing``).
"""

from __future__ import annotations

import heapq
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection, Generator, Iterable, Mapping
from typing import Any

from . import _pausing
from ._channels import MISSING, Channel
from ._config import RunOptions
from ._constants import ABANDON, EMIT, END, INTERRUPT, LAUNCH, SAVE, START, WAIT
from ._interrupts import CURRENT
from ._node import Callee
from ._pool._stats import PoolMetrics
from ._runstate import export, result_of, resumed_tasks, start_task, task_id
from ._sink import EventSink
from ._task import Task, TaskState
from ._topology import Topology
from .checkpoint.base import TaskResult
from .errors import (
    GraphInterrupt,
    GraphRecursionError,
    InvalidRouteError,
    InvalidUpdateError,
    NodeError,
    NodeTimeoutError,
)
from .types import Command, Send

__all__ = ["ABANDON", "EMIT", "INTERRUPT", "LAUNCH", "SAVE", "WAIT", "Outcome", "Run"]

_NEVER = float("inf")

Instruction = tuple[Any, ...]
Body = Generator[tuple[Callee, Any], Any, tuple[Any, list[tuple[str, Any]], list[Any]]]
Then = Callable[[Task], Generator[Instruction, Any, list[Task]]]
Outcome = tuple[Task, Any, BaseException | None]
"""What a driver reports for a finished attempt: the task, what its body returned
(output, writes, routes), or the error it raised."""


class Run:
    """The state of one run of a compiled graph: channels, step, what runs next.

    Set before :meth:`loop` starts (class defaults: none of it): ``interrupt_before``
    and ``interrupt_after`` (node names or ``"*"``); with a checkpointer,
    ``durable`` and ``checkpointing`` (the object drivers hand SAVE records to),
    and, to continue a thread (``_runstate.restore``), ``resuming``, ``reuse``
    (saved results by task id), ``answers`` and the resume values.
    """

    interrupt_before: Collection[str] = ()
    interrupt_after: Collection[str] = ()
    durable = False
    checkpointing: Any = None
    checkpoint_id = ""
    resuming = False
    reuse: Mapping[str, TaskResult] = {}
    resume_by_id: Mapping[str, Any] = {}
    start: tuple[Any, ...] = ()

    def __init__(self, topology: Topology, options: RunOptions, modes: Iterable[str]) -> None:
        self.topology = topology
        self.options = options
        self.modes = frozenset(modes)
        self.channels: dict[str, Channel] = topology.writable.new_channels()
        self.step = 0
        self.triggered: dict[str, tuple[str, ...]] = {}
        self.sends: list[Send] = []
        self.barriers: list[set[str]] = [set() for _ in topology.joins]
        self._output_keys = frozenset(topology.output.keys)
        self._executors: dict[str, str] = {}
        self.metrics: PoolMetrics | None = None  # set by the driver to count failures
        # stream modes whose chunks are made inside tasks (``messages``) set these:
        # the driver yields what tasks push into ``sink``; ``on_output(task,
        # output)`` sees each node's return value, on the worker
        self.sink: EventSink | None = None
        self.on_output: Callable[[Task, Any], None] | None = None
        self.stop = options.recursion_limit  # the last step this run may start
        self.answers: dict[str, list[Any]] = {}  # resume values consumed, by task id
        self.unaddressed: list[Any] = []  # a Command(resume=v) naming no interrupt
        self._fresh = True  # state changed since the run (re)started: breakpoints may fire

    def __repr__(self) -> str:
        return f"<Run {self.options.run_id} step={self.step}>"

    # -- the loop ----------------------------------------------------------------

    def loop(self, input: Any) -> Generator[Instruction, Any, None]:
        """Drive the run from ``input`` to the end; see the module docstring."""
        tasks = yield from self._begin(input)
        while tasks:
            self.options.observer.step_started(self, self.step, tasks)
            paused = yield from self._run_tasks(tasks)
            if paused:
                yield from _pausing.after_interrupts(self, tasks)
                return
            values = self._commit(tasks)
            self._fresh = True
            if self.durable:
                yield (SAVE, export(self, tasks), "loop")
            if self.interrupt_after and _pausing.at_breakpoint(self, self.interrupt_after, tasks):
                if values is not None:
                    yield (EMIT, "values", values)
                yield from _pausing.stop_at_breakpoint(self)
                return
            # As in LangGraph, a step's ``values`` chunk goes out once the next
            # step is prepared: an error preparing it (say, a pydantic state that
            # fails validation) leaves the chunk unsent.
            try:
                tasks = self._next_tasks()
            except GraphRecursionError:
                if values is not None:
                    yield (EMIT, "values", values)
                raise
            if values is not None:
                yield (EMIT, "values", values)
            if self.interrupt_before and _pausing.at_breakpoint(self, self.interrupt_before, tasks):
                yield from _pausing.stop_at_breakpoint(self)
                return

    def _begin(self, input: Any) -> Generator[Instruction, Any, list[Task]]:
        """The first step's tasks: START with the input, or where a restored run left off."""
        if not self.resuming:
            if self.durable:
                yield (SAVE, export(self, (), step=self.step - 1, start=(input,)), "input")
            return [start_task(self, input)]
        return (yield from resumed_tasks(self))

    def _run_tasks(
        self, tasks: list[Task], then: Then | None = None
    ) -> Generator[Instruction, Any, list[Task]]:
        """Run tasks within the concurrency limit, with timeouts and retries.

        Returns when every task has succeeded or paused in ``interrupt()`` (the
        paused ones are returned); raises the error of one that failed for good.
        ``then(task)``, if given, runs as each task succeeds and returns more
        tasks to run (eager scheduling); otherwise the set is fixed. All task
        state changes happen here, on the scheduler's side, so a late result of
        an abandoned attempt can never touch a task.
        """
        queue = deque(tasks)
        if self.resuming:  # tasks whose saved results were reused are done already
            queue = deque(t for t in tasks if t.state is TaskState.PENDING)
        limit = self.options.max_concurrency or len(queue) or 1
        if then is not None:
            limit = self.options.max_concurrency or 1 << 30
        retries: list[tuple[float, int, Task]] = []
        running = 0
        deadlines: dict[Task, float] = {}  # running tasks that have a timeout
        remaining = len(queue)
        paused: list[Task] = []
        while remaining:
            now = time.monotonic()
            while retries and retries[0][0] <= now:
                queue.append(heapq.heappop(retries)[2])
            while queue and running < limit:
                task = queue.popleft()
                self._prepare(task)
                task.start()
                running += 1
                timeout = self.timeout_of(task.node)
                if timeout is not None:
                    deadlines[task] = now + timeout
                self.options.observer.task_started(self, task)
                if "tasks" in self.modes or "debug" in self.modes:
                    yield from self._task_event(task, start=True)
                alone = running == 1 and not queue and not retries and timeout is None
                yield (LAUNCH, task, alone)
            due = min(min(deadlines.values(), default=_NEVER), retries[0][0] if retries else _NEVER)
            outcomes: list[Outcome] = yield (WAIT, None if due == _NEVER else max(0, due - now))
            now = time.monotonic()
            if deadlines:
                finished = {o[0] for o in outcomes}
                for task, deadline in list(deadlines.items()):
                    if deadline <= now and task not in finished:
                        yield (ABANDON, task)
                        task.ended()
                        outcomes.append((task, None, self._timeout_error(task)))
            for task, result, error in outcomes:
                running -= 1
                deadlines.pop(task, None)
                if error is None:
                    task.succeed(*result)
                    self.options.observer.task_ended(self, task, "succeeded")
                    remaining -= 1
                    if self.durable:
                        yield (SAVE, result_of(self, task), "task")
                    yield from self._finished_events(task)
                    if then is not None:
                        more = yield from then(task)
                        queue.extend(more)
                        remaining += len(more)
                    continue
                task.fail(error)
                CURRENT.set(None)  # a failed task that ran inline left it set in this thread
                if isinstance(error, GraphInterrupt):
                    remaining -= 1
                    paused.append(task)
                    yield from _pausing.interrupted(self, task)
                    continue
                delay = self._retry_delay(task)
                retried = delay is not None
                if self.metrics is not None:
                    self.metrics.task_failed(retried=retried)
                self.options.observer.task_ended(self, task, "retried" if retried else "failed")
                if delay is None:
                    if self.durable:
                        yield (SAVE, result_of(self, task), "task")
                    if "tasks" in self.modes or "debug" in self.modes:
                        yield from self._task_event(task, start=False)
                    raise self._with_context(task, error)
                task.retry_later()
                heapq.heappush(retries, (time.monotonic() + delay, id(task), task))
        return paused

    def _prepare(self, task: Task) -> None:
        """Last moment before a task starts (superstep tasks are ready when made)."""

    def timeout_of(self, node: str) -> float | None:
        """Seconds an attempt of ``node`` may run, or None."""
        if node == START:
            return None
        spec = self.topology.nodes[node]
        return spec.timeout if spec.timeout is not None else self.topology.default_timeout

    def executor_of(self, node: str) -> str:
        """Where ``node`` runs: "thread", "process", "async" or "ray" (see ``add_node``)."""
        kind = self._executors.get(node)
        if kind is None:
            kind = self._executors[node] = self._resolve_executor(node)
        return kind

    def _resolve_executor(self, node: str) -> str:
        spec = self.topology.nodes[node]
        chosen = spec.executor or self.options.executor or self.topology.default_executor
        if spec.callee.is_async and chosen in (None, "thread"):
            return "async"
        return chosen or "thread"

    def _timeout_error(self, task: Task) -> NodeTimeoutError:
        limit = self.timeout_of(task.node) or 0.0
        return NodeTimeoutError(
            f"Node {task.node!r} timed out after {limit:g} s (attempt {task.attempt}, run "
            f"{self.options.run_id}).",
            node=task.node,
            attempt=task.attempt,
            run_id=self.options.run_id,
            timeout=limit,
        )

    def _with_context(self, task: Task, error: BaseException) -> BaseException:
        """Add the node, attempt and run to an error that is not graphpool's own."""
        if not isinstance(error, NodeError) and hasattr(error, "add_note"):
            error.add_note(
                f"(graphpool: raised by node {task.node!r}, attempt {task.attempt}, "
                f"run {self.options.run_id})"
            )
        return error

    def _retry_delay(self, task: Task) -> float | None:
        assert task.error is not None
        if task.node == START:
            return None
        policies = self.topology.nodes[task.node].retry_policy or self.topology.default_retry
        for policy in policies:
            if policy.should_retry(task.error, task.attempt):
                return policy.delay(task.attempt)
        return None

    def _next_tasks(self) -> list[Task]:
        """The tasks of the next step; raises GraphRecursionError past the limit."""
        self.step += 1
        step = self.step
        if step > self.stop:
            raise GraphRecursionError(
                f"Recursion limit of {self.options.recursion_limit} reached without hitting a "
                "stop condition. You can increase the limit by setting the `recursion_limit` "
                "config key."
            )
        index = self.topology.index
        tasks = [
            Task(step, node, (0, node), self.triggered[node], self.node_input(node))
            for node in sorted(self.triggered, key=index.__getitem__)
        ]
        tasks.extend(
            Task(step, send.node, (1, i), ("__pregel_push",), send.arg)
            for i, send in enumerate(self.sends)
        )
        self.triggered, self.sends = {}, []
        if self.durable:  # ids a resumed run can match saved results by
            for task in tasks:
                task.id = task_id(self.checkpoint_id, task.order)
        return tasks

    # -- inside a task (runs on a worker) -----------------------------------------

    def body(self, task: Task) -> Body:
        """What a task does; yields ``(callee, argument)`` for the driver to call.

        Calls the node, turns its return value into writes and routes, then calls
        each conditional route on the state as the node left it (the step's
        start state plus this task's own writes, not its siblings').
        """
        topology = self.topology
        node = task.node
        if node == START:
            output = task.input
            writes = [] if output is None else topology.input.writes_of(START, output)
            routes: list[Any] = []
        else:
            CURRENT.set((self, task, [0]))  # for interrupt(): see _interrupts.py
            output = yield (topology.nodes[node].callee, task.input)
            CURRENT.set(None)  # (when the node raises, _run_tasks clears it)
            if self.on_output is not None:
                self.on_output(task, output)
            writes, routes = self._interpret(node, output)
        routes.extend(topology.edges.get(node, ()))
        for branch in topology.branches.get(node, ()):
            result = yield (branch.path, self._fresh_state(task, writes))
            for target in branch.destinations(result):
                if target != END:
                    routes.append(self._check_route(node, target))
        return output, writes, routes

    def node_input(self, node: str) -> Any:
        """The state a pull task's node receives now, shaped by its input schema."""
        schema = self.topology.reader_of(node)
        return schema.coerce(schema.read(self.channels))

    def _fresh_state(self, task: Task, writes: list[tuple[str, Any]]) -> Any:
        channels = task.view if task.view is not None else self.channels
        schema = self.topology.reader_of(task.node)
        values = schema.read(channels)
        grouped: dict[str, list[Any]] = {}
        for key, value in writes:
            grouped.setdefault(key, []).append(value)
        for key, group in grouped.items():
            if key in schema.fields:
                channel = channels[key].copy()
                channel.update(group)
                if channel.value is not MISSING:
                    values[key] = channel.value
        return schema.coerce(values)

    def _interpret(self, node: str, output: Any) -> tuple[list[tuple[str, Any]], list[Any]]:
        """Split a node's return value into state writes and routes."""
        writable = self.topology.writable
        if output is None:
            return [], []
        if isinstance(output, dict):
            return writable.writes_of(node, output), []
        if isinstance(output, Command):
            return self._command(node, output)
        if isinstance(output, Send):
            return [], [self._check_route(node, output)]
        if isinstance(output, (list, tuple)) and any(isinstance(o, Command) for o in output):
            writes: list[tuple[str, Any]] = []
            routes: list[Any] = []
            for item in output:
                if isinstance(item, Command):
                    w, r = self._command(node, item)
                    writes += w
                    routes += r
                elif item is not None:
                    writes += writable.writes_of(node, item)
            return writes, routes
        return writable.writes_of(node, output), []

    def _command(self, node: str, command: Command) -> tuple[list[tuple[str, Any]], list[Any]]:
        if command.graph == Command.PARENT:
            raise InvalidUpdateError(
                f"Node {node!r} returned Command(graph=Command.PARENT); subgraphs are not "
                "supported by graphpool yet."
            )
        writes = []
        for key, value in command.update_items():
            if key == "__object__":
                writes += self.topology.writable.writes_of(node, value)
            elif key in self.topology.writable.fields:
                writes.append((key, value))
        return writes, [self._check_route(node, t) for t in command.goto_items()]

    def _check_route(self, node: str, target: Any) -> Any:
        name = target.node if isinstance(target, Send) else target
        if name not in self.topology.nodes:
            raise InvalidRouteError(
                f"Node {node!r} routed to {name!r}, which is not a node of this graph "
                f"(nodes: {sorted(self.topology.nodes)}). LangGraph would ignore this route "
                "silently; graphpool stops. Fix the name or add the node."
            )
        return target

    # -- end of step -------------------------------------------------------------

    def _commit(self, tasks: list[Task]) -> dict[str, Any] | None:
        """Apply the step's writes in deterministic order and record what runs next.

        Returns the ``values`` chunk if the step wrote an output key and it is streamed.
        """
        tasks.sort(key=_order)
        pending = self._apply(tasks)
        joins_from = self.topology.joins_from
        triggered = self.triggered
        for task in tasks:
            for route in task.routes:
                if type(route) is str:
                    triggered[route] = ("branch:to:" + route,)
                else:
                    self.sends.append(route)
            for j in joins_from.get(task.node, ()):
                self.barriers[j].add(task.node)
        for j, seen in enumerate(self.barriers):
            join = self.topology.joins[j]
            if seen and seen >= join.sources:
                seen.clear()
                triggered[join.target] = (*triggered.get(join.target, ()), join.channel)
        if "values" in self.modes and not self._output_keys.isdisjoint(pending):
            return self.output()
        return None

    def _apply(self, tasks: list[Task]) -> dict[str, list[Any]]:
        """Apply the tasks' state writes, in the given order; returns them by key."""
        pending: dict[str, list[Any]] = {}
        for task in tasks:
            for key, value in task.writes:
                pending.setdefault(key, []).append(value)
        for key, values in pending.items():
            self.channels[key].update(values)
        return pending

    def output(self) -> dict[str, Any]:
        """The current values of the output keys that have one."""
        return self.topology.output.read(self.channels)

    # -- stream events -----------------------------------------------------------

    def _finished_events(self, task: Task) -> Generator[Instruction, Any, None]:
        if task.node == START:
            return
        if "updates" in self.modes:
            yield (EMIT, "updates", {task.node: self._update_of(task)})
        if "tasks" in self.modes or "debug" in self.modes:
            yield from self._task_event(task, start=False)

    def _update_of(self, task: Task) -> Any:
        writes = [(k, v) for k, v in task.writes if k in self._output_keys]
        if not writes:
            return None
        keys = [k for k, _ in writes]
        if len(set(keys)) < len(keys):
            return [{k: v} for k, v in writes]
        return dict(writes)

    def _task_event(self, task: Task, *, start: bool) -> Generator[Instruction, Any, None]:
        if task.node == START:
            return
        if not task.id:
            task.id = str(uuid.uuid4())
        if start:
            payload: dict[str, Any] = {
                "id": task.id,
                "name": task.node,
                "input": task.input,
                "triggers": task.triggers,
            }
        else:
            paused = isinstance(task.error, GraphInterrupt)
            payload = {
                "id": task.id,
                "name": task.node,
                "error": repr(task.error) if task.error is not None and not paused else None,
                "result": dict(w for w in task.writes if w[0] in self._output_keys),
                "interrupts": list(task.error.interrupts) if paused else [],  # type: ignore[union-attr]
            }
        if "tasks" in self.modes:
            yield (EMIT, "tasks", payload)
        if "debug" in self.modes:
            yield (
                EMIT,
                "debug",
                {
                    "step": task.step,
                    "timestamp": time.time(),
                    "type": "task" if start else "task_result",
                    "payload": payload,
                },
            )


def _order(task: Task) -> tuple[int, Any]:
    return task.order
