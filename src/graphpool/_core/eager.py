"""Eager scheduling: a task starts as soon as its own inputs are ready.

Superstep mode (LangGraph's) makes every task of a step wait for the slowest
one. ``compile(scheduling="eager")`` drops the step barrier:

* a task starts as soon as it is triggered (within ``max_workers``);
* it reads the state as committed when it starts;
* its writes are committed atomically, through the reducers, when it finishes,
  in finishing order, and its routes trigger their targets at once;
* a join edge ``add_edge([a, b], c)`` still waits for every source; separate
  edges trigger their target once per arrival;
* the recursion limit counts depth along the trigger chain: a task ``n`` hops
  from START is not started when ``n >= recursion_limit``;
* a key without a reducer written by two tasks that overlapped in time raises
  ``InvalidUpdateError``, as two writes in one step do in superstep mode.

For graphs whose parallel branches write disjoint keys or merge with
order-insensitive reducers, the final state equals superstep mode
(``tests/test_eager.py`` checks this with hypothesis over random graphs).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from .._channels import MISSING, LastValue
from ..errors import GraphRecursionError, InvalidUpdateError
from ..types import Send
from .events import Event, Save
from .records import export
from .run import Alone, Events, Run
from .step import PUSH
from .task import PENDING, Task

__all__ = ["EagerRun"]


class EagerRun(Run):
    """A run without step barriers; shares tasks, writes and events with :class:`Run`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = 0
        self._last_commit: dict[str, int] = {}
        self._outstanding: dict[Task, None] = {}  # made and not yet committed, in order

    def loop(self, input: Any, alone: Alone | None = None) -> Events:
        # (``alone`` is for chains of steps: an eager run launches every task)
        tasks = yield from self._begin(input)
        self._outstanding = dict.fromkeys(t for t in tasks if t.state is PENDING)
        paused = yield from self.run_tasks(tasks, then=self._commit_one)
        if paused:
            raise InvalidUpdateError(
                f"Node {paused[0].node!r} called interrupt(), which pauses between supersteps: "
                "use the default scheduling (compile() without scheduling='eager') for it."
            )
        yield from self._last_values()

    def _save(self, task: Task) -> Save:
        """A checkpoint after ``task`` committed: the state, and the tasks still to
        finish as the next ones to run (a resumed run starts them afresh)."""
        self.step = max(self.step, task.step)
        state = self.state
        state.triggered, state.sends = {}, []
        for pending in self._outstanding:
            if pending.order[0] == 1:
                state.sends.append(Send(pending.node, pending.input))
            else:
                state.triggered[pending.node] = pending.triggers
        return Save(export(self, [task]), "loop")

    def prepare(self, task: Task) -> None:
        self._clock += 1
        task.started = self._clock
        if task.input is MISSING:
            task.input = self.state.node_input(task.node, self.stop - task.step)
        if task.node in self.topology.branches:
            task.view = {key: channel.copy() for key, channel in self.state.channels.items()}

    def _commit_one(self, task: Task) -> Generator[Event, Any, list[Task]]:
        """Commit a finished task's writes and make the tasks its routes trigger."""
        self._clock += 1
        state = self.state
        for key, _ in task.writes:
            if (
                isinstance(state.channels[key], LastValue)
                and self._last_commit.get(key, 0) > task.started
            ):
                raise InvalidUpdateError(
                    f"At key {key!r}: node {task.node!r} wrote it while another task that "
                    "overlapped it in time also did (eager scheduling). Declare the key as "
                    "Annotated[type, reducer] to merge concurrent writes."
                )
        written = state.apply([task])
        for key in written:
            self._last_commit[key] = self._clock
        if not state.output_keys.isdisjoint(written):
            yield from self.values()
        depth = task.step + 1
        made = []
        for route in task.routes:
            if isinstance(route, Send):
                made.append(Task(depth, route.node, (1, 0), PUSH, route.arg))
            else:
                made.append(Task(depth, route, (0, route), ("branch:to:" + route,), MISSING))
        for j in self.topology.joins_from.get(task.node, ()):
            seen, join = state.barriers[j], self.topology.joins[j]
            seen.add(task.node)
            if seen >= join.sources:
                seen.clear()
                made.append(Task(depth, join.target, (0, join.target), (join.channel,), MISSING))
        if made and depth >= self.options.recursion_limit:
            raise GraphRecursionError(
                f"Recursion limit of {self.options.recursion_limit} reached without hitting a "
                "stop condition (eager scheduling counts depth along the trigger chain). You "
                "can increase the limit by setting the `recursion_limit` config key."
            )
        self._outstanding.pop(task, None)
        self._outstanding.update(dict.fromkeys(made))
        if self.durable:
            yield self._save(task)
        return made
