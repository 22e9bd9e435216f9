"""The dispatcher: carries out a run's events, written once for both drivers.

The core yields events (``_core.events``); a driver only submits and waits. All
the rest is here, shared: choosing a runner for each task, running an attempt's
body (:class:`TaskJob`), abandoning, telling observers and pool metrics,
admitting and releasing the run, and matching finished attempts to the tasks
still waited for (a late result of an abandoned attempt is dropped).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Hashable, Iterator
from threading import Lock, current_thread
from typing import Any

from . import _lc
from ._constants import START
from ._context import CURRENT
from ._core import Abandon, Launch, Observed, Outcome, Run, Save, Task
from ._core.interrupts import Asking
from ._nest import addressed_to
from ._node import Callee
from ._pool import NodeRunner
from ._pool._registry import NodeCall
from ._pool._runners import CallerLoopRunner, ThreadRunner, dropped
from ._services import Services
from ._sink import EventSink
from .errors import InternalError, NodeCancelledError, ParentCommand, PoolShutDownError
from .runtime import ExecutionInfo, Runtime

__all__ = ["Dispatcher", "TaskJob"]

_late_lock = Lock()  # makes each run's late sink once
_UNSEEN = object()  # a node not yet looked up in a direct table


class TaskJob:
    """One attempt of one task, as runners see it (see ``_pool._registry.Job``)."""

    # what most attempts never change, on the class (one job per attempt: fewer
    # attribute stores on the hot path)
    handle: Any = None
    abandoned = False
    outcome: Outcome | None = None
    _asking: Asking | None = None
    cache_key: Any = None  # (cache key, ttl): store the result there on success
    stamped = False  # handed to a runner: its outcome says when it ended (see run_tasks)
    calls: Any = None  # the @task calls of this attempt (graphpool.func)
    lc_run: Any = None  # the attempt's langchain callback run (runs with callbacks only)

    def __init__(self, dispatcher: Dispatcher, task: Task) -> None:
        self.dispatcher = dispatcher
        self.task = task
        self._attempt = task.attempt
        if not task.first_started:
            task.first_started = time.time()

    def __repr__(self) -> str:
        return f"<TaskJob {self.task.node!r} attempt={self.attempt}>"

    @property
    def attempt(self) -> int:
        return self._attempt

    @property
    def lane(self) -> Hashable:
        return self.dispatcher.lane

    @property
    def owner(self) -> Run:
        return self.dispatcher.run

    @property
    def step(self) -> int:
        return self.task.step

    @property
    def node(self) -> str:
        return self.task.node

    @property
    def run_id(self) -> str:
        return self.dispatcher.lane

    def resources(self) -> Any:
        return self.dispatcher.run.topology.nodes[self.task.node].resources

    def fail(self, error: BaseException) -> None:
        self.outcome = Outcome(self.task, None, error)

    # -- what the node's code may ask for (``_context.RunningTask``) -------------

    def interrupt(self, value: Any, schema: Any = None, validate: Any = None) -> Any:
        if self._asking is None:  # counts this attempt's interrupt() calls
            self._asking = self.dispatcher.run.asking(self.task)
        return self._asking.interrupt(value, schema, validate)

    @property
    def runtime(self) -> Runtime[Any]:
        runtime = self.dispatcher.services.runtime
        info = self.execution_info()
        idle = self.dispatcher.run.failures.idle_of(self.task.node)
        if idle is None:
            return runtime.override(execution_info=info)
        beat, writer = self._beat, runtime.stream_writer
        if idle[1] == "auto":  # a chunk written is progress too

            def writer(chunk: Any, _write: Any = runtime.stream_writer) -> None:
                beat()
                _write(chunk)

        return runtime.override(execution_info=info, heartbeat=beat, stream_writer=writer)

    @property
    def failure(self) -> Any:
        """An error handler's task: the NodeError it handles (see ``_handlers``)."""
        return self.task.failure

    def graph_state(self) -> Any:
        """The state of the graph this task runs in, as its node reads it (a
        ``ToolNode`` given bare tool calls hands it to the tools, as LangGraph's)."""
        run, task = self.dispatcher.run, self.task
        return run.state.node_input(task.node, run.stop - task.step)

    def streamed(self) -> None:
        """The node streamed a chunk (a chat model's token, ``_stream_messages``):
        progress for an idle limit that is refreshed ``"auto"``."""
        idle = self.dispatcher.run.failures.idle_of(self.task.node)
        if idle is not None and idle[1] == "auto":
            self._beat()

    def _beat(self) -> None:
        """``runtime.heartbeat()``: the attempt shows progress (its idle limit restarts)."""
        if not self.abandoned:
            self.task.beat = self.dispatcher.run.clock.monotonic()

    def execution_info(self) -> ExecutionInfo:
        """Where this attempt runs, for ``runtime.execution_info``."""
        task, run = self.task, self.dispatcher.run
        if not task.id:  # a run without a checkpointer names its tasks only when asked
            task.id = run.new_task_id()
        given = run.options.config  # the caller's config (for_node drops run_id)
        run_id = given.get("run_id")
        nest = self.dispatcher.services.nest  # a subgraph's tasks: under its namespace
        ns = f"{task.node}:{task.id}" if nest is None else f"{nest.ns}|{task.node}:{task.id}"
        return ExecutionInfo(
            checkpoint_id=run.checkpoint_id,
            checkpoint_ns=ns,
            task_id=task.id,
            thread_id=(given.get("configurable") or {}).get("thread_id"),
            run_id=None if run_id is None else str(run_id),
            node_attempt=self._attempt,
            node_first_attempt_time=task.first_started,
        )

    def push_writes(self, writes: list[tuple[str, Any]]) -> None:
        """State writes the node makes while it runs (``push_message``): they go
        with its return value's, before them."""
        task = self.task
        task.pushed = [*(task.pushed or ()), *writes]

    @property
    def config(self) -> dict[str, Any]:
        task = self.task
        return self.dispatcher.run.options.for_node(task.step, task.node, task.triggers)

    def _keep(self) -> None:
        """Store a succeeded attempt's writes and routes under its cache key."""
        outcome = self.outcome
        if outcome is None or outcome.error is not None:
            return
        (key, ttl), (_, writes, routes) = self.cache_key, outcome.result
        self.dispatcher.services.cache.set({key: ((tuple(writes), tuple(routes)), ttl)})

    # -- running ---------------------------------------------------------------------

    def run_sync(self, call: NodeCall | None = None) -> Outcome:
        """Run the attempt in this thread; the node itself through ``call`` if given."""
        task, run = self.task, self.dispatcher.run
        if run.observing:
            self._began()
        callee = None if call is not None else run.topology.plain.get(task.node)
        if callee is not None and (fn := callee.direct) is not None:  # the hot path
            self.outcome = self.run_direct(fn)
        else:
            token = CURRENT.set(self)  # for interrupt(), get_runtime(), get_config()
            try:
                if callee is not None:  # no routes to call: no body
                    config = self.dispatcher.config_for(task, callee)
                    output = callee.call_sync(task.input, config)
                    self.outcome = Outcome(task, run.finish(task, output), None)
                else:
                    self.outcome = Outcome(task, self._body_sync(call), None)
            except ParentCommand as exc:  # maybe a subgraph's Command(graph=PARENT)
                self.outcome = self._parent_command(exc)
            except BaseException as exc:  # the scheduler decides: retry or fail the run
                self.outcome = Outcome(task, None, exc)
            finally:
                CURRENT.reset(token)
        if self.stamped:
            self.outcome.ended = run.clock.monotonic()
        if run.observing or self.cache_key is not None:
            return self._ended()
        return self.outcome

    def run_direct(self, fn: Callable[[Any], Any]) -> Outcome:
        """The attempt of a plain node whose function is ``fn`` (``Callee.direct``),
        run in this thread; its Outcome (the hot path: no body, no stamps)."""
        task = self.task
        token = CURRENT.set(self)  # for interrupt(), get_runtime(), get_config()
        var, bound = self.dispatcher._config_var, None  # see config_for
        if var is not None:
            bound = var.set(
                self.dispatcher.run.options.for_node(task.step, task.node, task.triggers)
            )
        try:
            return Outcome(task, self.dispatcher.run.finish(task, fn(task.input)), None)
        except ParentCommand as exc:  # maybe a subgraph's Command(graph=PARENT) for this task
            return self._parent_command(exc)
        except BaseException as exc:  # the scheduler decides: retry or fail the run
            return Outcome(task, None, exc)
        finally:
            if bound is not None:
                var.reset(bound)  # type: ignore[union-attr]
            CURRENT.reset(token)

    def _body_sync(self, call: NodeCall | None) -> Any:
        """Drive the task's body (the node, then its routes); its result."""
        task, config_for = self.task, self.dispatcher.config_for
        body = self.dispatcher.run.body(task)
        try:
            callee, arg = body.send(None)
            if task.node != START:
                config = config_for(task, callee)
                if call is None:
                    value = callee.call_sync(arg, config)
                else:  # elsewhere: what it asks for must travel with it
                    runtime = self.dispatcher.remote_runtime if callee.injects else None
                    fn = functools.partial(callee.call_sync, config=config, runtime=runtime)
                    value = call(self, fn, arg)
                callee, arg = body.send(value)
            while True:
                callee, arg = body.send(callee.call_sync(arg, config_for(task, callee)))
        except StopIteration as stop:
            return stop.value

    async def run_async(self) -> Outcome:
        """Like :meth:`run_sync`, awaiting async nodes and routes on the running loop."""
        task, config_for = self.task, self.dispatcher.config_for
        self._began("asyncio@")
        body = self.dispatcher.run.body(task)
        token = CURRENT.set(self)
        try:
            callee, arg = body.send(None)
            while True:
                value = await callee.call_async(arg, config_for(task, callee))
                callee, arg = body.send(value)
        except StopIteration as stop:
            self.outcome = Outcome(task, stop.value, None)
        except ParentCommand as exc:
            self.outcome = self._parent_command(exc)
        except BaseException as exc:
            self.outcome = Outcome(task, None, self._own_cancel(exc))
        finally:
            CURRENT.reset(token)
        if self.stamped:
            self.outcome.ended = self.dispatcher.run.clock.monotonic()
        return self._ended()

    def _parent_command(self, exc: ParentCommand) -> Outcome:
        """A ``Command(graph=PARENT)`` from a subgraph run in this task acts as this
        task's node's own return value; any other goes on up."""
        task, command = self.task, exc.command
        if command.graph != addressed_to(self):
            return Outcome(task, None, exc)
        try:
            own = dataclasses.replace(command, graph=None)
            return Outcome(task, self.dispatcher.run.finish(task, own), None)
        except BaseException as error:
            return Outcome(task, None, error)

    def _own_cancel(self, error: BaseException) -> BaseException:
        """A ``CancelledError`` the node raised itself (its task was not being
        cancelled) becomes NodeCancelledError; any other error is kept as it is."""
        import asyncio

        current = asyncio.current_task()
        if (
            not isinstance(error, asyncio.CancelledError)
            or self.abandoned
            or current is None
            or getattr(current, "cancelling", lambda: 0)()  # Task.cancelling: Python 3.11+
        ):
            return error
        own = NodeCancelledError(
            f"Node {self.task.node!r} raised asyncio.CancelledError",
            node=self.task.node,
            attempt=self._attempt,
            run_id=self.dispatcher.lane,
        )
        own.__cause__ = error
        return own

    def _began(self, where: str = "") -> None:
        run = self.dispatcher.run
        if run.observing:  # stamps for observers (traces, progress, logs)
            self.task.worker = where + current_thread().name
            self.task.started_at = time.time()
            if run.options.callbacks is not None:  # config has langchain callbacks
                self.lc_run = run.options.callbacks.task_started(self)

    # _ended (and _began) are only called when there is something to do: an
    # observed run, or a result to cache (the hot path skips both calls)

    def _ended(self) -> Outcome:
        """The attempt's outcome, stamped and (on success, with a cache policy) kept."""
        run = self.dispatcher.run
        if run.observing:
            self.task.ended_at = time.time()
            lc_run = self.lc_run
            if lc_run is not None:
                self.lc_run = None
                run.options.callbacks.task_ended(self, lc_run)
        if self.cache_key is not None:
            self._keep()
        assert self.outcome is not None
        return self.outcome


class Dispatcher:
    """Carries out one run's Launch, Abandon, Save and Observed events.

    ``done`` is how runners report a finished job (from any thread); the
    driver sets it to its own thread-safe queue. ``on_caller_loop``: the
    driver is async, so async nodes run on the caller's event loop (unless the
    graph has an ``AsyncPool``).
    """

    def __init__(self, run: Run, services: Services, *, on_caller_loop: bool) -> None:
        self.run = run
        self.services = services
        self.pools = services.pools
        self.nest = services.nest  # a subgraph's run: the root's lane, admitted once
        self.lane = run.options.run_id if self.nest is None else self.nest.lane
        self.done: Callable[[Any], None] = _unset
        self.inflight: dict[Task, tuple[TaskJob, NodeRunner, Any]] = {}
        self._cancelled: list[Any] = []  # caller-loop tasks abandoned (see ``close``)
        self._on_loop = on_caller_loop  # the async driver: the caller's event loop runs it
        self._caller_loop = on_caller_loop and self.pools.async_pool is None
        # which runner each node uses depends only on these: shared by the graph's runs
        table = (id(self.pools), run.options.executor, self._caller_loop)
        self._runners = run.topology.runner_tables.setdefault(table, {})
        self._observers = services.observers
        self._bind_config = _lc.loaded()  # then every call gets its config (see config_for)
        self._config_var = _lc.config_var() if self._bind_config else None
        self._metrics = getattr(self.pools.primary, "metrics", None)
        self._began = 0.0
        self._watched: Any = None
        # a sync caller would only sleep while its step runs: it keeps one of the
        # step's thread jobs to run itself when it waits (see ``help``). Not in a
        # run that saves each task's result as it ends (a checkpointer, durability
        # other than "exit"): the caller saves them, so it must not be busy in a
        # sibling (LangGraph saves a finished task's writes while the others run)
        hook = services.durability
        saves_results = hook is not None and hook.durability != "exit"
        self._may_hold = not on_caller_loop and services.sink is None and not saves_results
        self._held: tuple[TaskJob, ThreadRunner] | None = None
        self.nest_calls: dict[tuple[str, int], int] = {}  # subgraphs each attempt ran (_nest)
        self._late: EventSink | None = None  # see chunk_sink
        # for a run with nothing to observe or stream from inside a node: the nodes
        # whose lone task runs inline as a bare call (see ``alone``), by graph
        plain = not (on_caller_loop or run.observing) and services.sink is None
        tables = run.topology.runner_tables
        self._direct = tables.setdefault((*table, "direct"), {}) if plain else None

    def __repr__(self) -> str:
        return f"<Dispatcher run={self.lane} inflight={len(self.inflight)}>"

    @functools.cached_property
    def remote_runtime(self) -> Runtime[Any]:
        """The run's Runtime as it travels to a process or Ray worker: its context
        (which must pickle), but no store and no stream writer (they stay here)."""
        runtime = self.services.runtime
        return Runtime(context=runtime.context, previous=runtime.previous)

    # -- the run's life ------------------------------------------------------------

    def admitted(self) -> None:
        """The primary pool let the run in (see :meth:`WorkerPool.admit`)."""
        self._began = time.monotonic()

    def close(self) -> list[Any]:
        """The run ended: stop what is still in flight, free its lane in the pool.

        Returns the asyncio tasks it cancelled on the caller's loop, which the
        async driver waits for: a closed ``astream`` returns once they stopped.
        """
        for task in list(self.inflight):
            self.abandon(task)
        cancelled, self._cancelled = self._cancelled, []
        if self.nest is None:
            self.pools.primary.release(self.lane, time.monotonic() - self._began)
        return cancelled

    def reclaim(self, timeout: float | None) -> bool:
        """Before the driver blocks: run one of this run's jobs that still waits in a
        thread pool's queue, here, instead of sleeping until a worker takes it.
        True if one ran (its outcome comes back through ``done``).

        A nested run always does (it runs on a worker: waiting for another
        worker could starve a bounded pool, see ``WorkerPool.reclaim``). A root
        run's caller does when its wait has no deadline and the pool lets runs
        execute in the caller (``runs_inline``): it would only sleep meanwhile,
        and short nodes then cost no thread hand-off at all.
        """
        nested = self.nest is not None
        if not nested and (timeout is not None or not self._may_hold or self._late is not None):
            return False
        for task, (_, runner, handle) in list(self.inflight.items()):
            pool = getattr(runner, "pool", None)
            if handle is None or pool is None or not (nested or pool.runs_inline):
                continue
            if task.failure is not None:  # an error handler: see ``launch``
                continue
            if pool.reclaim(handle):
                return True
        return False

    # -- events --------------------------------------------------------------------

    def handle(self, event: Any) -> Any:
        """Carry out a Launch, Abandon or Observed event; returns the core's answer."""
        kind = type(event)
        if kind is Launch:
            return self.launch(event.task, event.alone)
        if kind is Abandon:
            self.abandon(event.task)
        elif kind is Observed:
            self.observed(event)
        return None

    @property
    def runs_alone(self) -> bool:
        """Whether :meth:`alone` may run lone tasks (see ``Run.loop``)."""
        return self._direct is not None

    def alone(self, task: Task) -> Outcome | None:
        """Run a step's lone task here and now if its node is a bare call (see
        :meth:`_direct_of`) and nothing is to be observed or told from inside it;
        its Outcome, else None."""
        direct = self._direct
        if direct is None or self._late is not None:
            return None
        fn = direct.get(task.node, _UNSEEN)
        if fn is _UNSEEN:
            fn = direct[task.node] = self._direct_of(task.node)
        if fn is None:
            return None
        return TaskJob(self, task).run_direct(fn)

    def launch(self, task: Task, alone: bool) -> Any:
        """Start one attempt; returns its Outcome (or a coroutine giving it) if it ran
        inline, else None (its job comes back through ``done``)."""
        if alone and (ran := self.alone(task)) is not None:
            return ran
        job = TaskJob(self, task)
        if task.node == START:  # runs no node: never worth a hop
            return job.run_async() if self._caller_loop else job.run_sync()
        if self.services.cache is not None:
            policy = self.run.topology.nodes[task.node].cache_policy
            if policy is not None and (hit := self._from_cache(job, policy)) is not None:
                return hit
        runner = self._runners.get(task.node) or self.runner_of(task.node)
        if (
            alone
            and self.services.sink is None
            and self._late is None
            and not (self._on_loop and type(runner) is ThreadRunner)
        ):
            # inline (chunks could not go out live); never a sync node on the caller's loop
            if type(runner) is ThreadRunner:  # the usual runner: its run_inline, unrolled
                if runner.pool.runs_inline:
                    return job.run_sync()
            elif (ran := runner.run_inline(job)) is not None:
                return ran
        elif (
            self._may_hold
            and self._late is None
            and self._held is None
            and type(runner) is ThreadRunner
            and runner.pool.runs_inline
            and self.run.topology.timeouts[task.node] is None
            # an error handler starts mid-step, while its siblings run (as LangGraph's):
            # one of them may wait for it, and it for the next handler the caller starts
            and task.failure is None
        ):
            self._held = (job, runner)
            self.inflight[task] = (job, runner, None)
            return None
        job.stamped = True
        try:
            handle = runner.start(job, self.done)
        except PoolShutDownError as exc:  # shut down while this run was going
            error = dropped(job)
            error.__cause__ = exc
            return Outcome(task, None, error)
        self.inflight[task] = (job, runner, handle)
        return None

    def help(self, timeout: float | None) -> list[TaskJob]:
        """Before the caller waits: run the job it kept, in its own thread.

        Not when the wait has a deadline (a sibling's timeout or a retry is
        due): then the job goes to the pool after all, so the caller stays free
        to notice the deadline.
        """
        held, self._held = self._held, None
        if held is None or held[0].abandoned:
            return []
        job, runner = held
        if timeout is not None:
            try:
                self.inflight[job.task] = (job, runner, runner.start(job, self.done))
                return []
            except PoolShutDownError as exc:
                del self.inflight[job.task]
                job.fail(dropped(job))
                job.outcome.error.__cause__ = exc  # type: ignore[union-attr]
                return [job]
        job.run_sync(runner.call)
        return [job]

    def _from_cache(self, job: TaskJob, policy: Any) -> Outcome | None:
        """A cached result of the job's node for its input (``cache_policy``), or None;
        on a miss the job remembers where to store its result once it succeeds."""
        from .cache import node_namespace, task_key

        task = job.task
        namespace = node_namespace(task.node, self.run.topology.nodes[task.node].callee.fn)
        key = (namespace, task_key(policy, task.input))
        found = self.services.cache.get([key])
        if key in found:
            writes, routes = found[key]
            task.cached = True
            return Outcome(task, (None, list(writes), list(routes)), None)
        job.cache_key = (key, policy.ttl)
        return None

    def abandon(self, task: Task) -> None:
        job, runner, handle = self.inflight.pop(task)
        job.abandoned = True
        if handle is None:  # kept by the caller, never started
            return
        if self.run.observing:
            task.ended_at = time.time()  # as far as the run is concerned
        runner.abandon(job, handle)
        if isinstance(runner, CallerLoopRunner):  # close() lets it see its CancelledError
            self._cancelled.append(handle)

    def collect(self, jobs: list[Any]) -> list[Outcome]:
        """The outcomes of finished jobs still waited for (not abandoned, not wake-ups)."""
        outcomes: list[Outcome] = []
        inflight = self.inflight
        for job in jobs:
            if job is None:
                continue
            entry = inflight.get(job.task)
            if entry is not None and entry[0] is job:
                del inflight[job.task]
                assert job.outcome is not None, f"{job!r} reported done without an outcome"
                outcomes.append(job.outcome)
        return outcomes

    def save(self, event: Save) -> None:
        durability = self.services.durability
        assert durability is not None, "a Save event from a run without a checkpointer"
        durability.save(event.record, event.source)

    async def asave(self, event: Save) -> None:
        durability = self.services.durability
        assert durability is not None, "a Save event from a run without a checkpointer"
        await durability.asave(event.record, event.source)

    def observed(self, event: Observed) -> None:
        observers, run_id = self._observers, self.lane
        if event.task is None:
            observers.step_started(run_id, event.step, event.tasks)
        elif event.end is None:
            observers.task_started(run_id, event.task)
        else:
            observers.task_ended(run_id, event.task, event.end)
            if event.end != "succeeded" and self._metrics is not None:
                self._metrics.task_failed(retried=event.end == "retried")

    # -- chunks made inside tasks (stream_mode="messages") ---------------------------

    def watch_sink(self) -> None:
        """Make the next chunk a task pushes wake the driver (a ``None`` job)."""
        sink = self.services.sink or self._late
        if sink is not None and sink.wake is not self._watched:
            self._watched = sink.wake
            self._watched.add_done_callback(lambda _: self.done(None))

    def drain_sink(self) -> Iterator[tuple[str, Any]]:
        sink = self.services.sink
        if self._late is not None:
            return iter([*(sink.drain() if sink is not None else ()), *self._late.drain()])
        return iter(sink.drain()) if sink is not None else iter(())

    def chunk_sink(self) -> EventSink:
        """Where a chunk made inside a running task goes: the run's sink, or (a run
        streaming no ``custom`` or ``messages``) one made on first use, which the
        driver watches from then on, and whose chunks go out before its next chunk
        (:meth:`drain_late`) if it has not drained them yet. So a ``@task``
        called in a node streams its update, as in LangGraph, and runs that make
        none keep the paths a sink would close (a lone node run inline)."""
        sink = self.services.sink
        if sink is not None:
            return sink
        with _late_lock:
            late = self._late
            made = late is None
            if late is None:
                late = self._late = EventSink()
        if made:
            self.done(None)  # wake the driver: it watches this sink from its next wait
        return late

    def drain_late(self) -> list[tuple[str, Any]]:
        """The chunks :meth:`chunk_sink` made on first use still holds (empty if none)."""
        late = self._late
        return late.drain() if late is not None else []

    # -- where a node runs ---------------------------------------------------------

    def runner_of(self, node: str) -> NodeRunner:
        runner = self._runners.get(node)
        if runner is None:
            kind = self._executor_of(node)
            if kind == "async" and self._caller_loop:
                runner = CallerLoopRunner(self.pools)
            else:
                runner = self.pools.runner(kind)
            self._runners[node] = runner
        return runner

    def _direct_of(self, node: str) -> Callable[[Any], Any] | None:
        """The function a lone task of ``node`` may run as, inline: a plain node's
        (see ``Callee.direct``) on a thread pool that lets runs execute in the
        caller, without a cache policy; else None."""
        topology = self.run.topology
        spec, callee = topology.nodes.get(node), topology.plain.get(node)
        if spec is None or callee is None or spec.cache_policy is not None:
            return None
        runner = self.runner_of(node)
        return callee.direct if type(runner) is ThreadRunner and runner.pool.runs_inline else None

    def _executor_of(self, node: str) -> str:
        """Where ``node`` runs: its own ``executor=``, the run's, the graph's; async
        nodes left to the default run on an event loop."""
        topology = self.run.topology
        spec = topology.nodes[node]
        chosen = spec.executor or self.run.options.executor or topology.default_executor
        if spec.callee.is_async and chosen in (None, "thread"):
            return "async"
        return chosen or "thread"

    def config_for(self, task: Task, callee: Callee) -> Any:
        # with langchain-core loaded every call gets its config: it is bound as
        # langchain's current config, so models called inside the node inherit it
        if callee.wants_config or self._bind_config:
            return self.run.options.for_node(task.step, task.node, task.triggers)
        return None


def _unset(job: Any) -> None:  # pragma: no cover - a driver always sets ``done``
    raise InternalError("Dispatcher.done was not set by the driver")
