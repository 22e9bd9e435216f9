"""One task call inside a running entrypoint or node: where it runs, what it saves.

A call made while a node (or another task) runs becomes a :class:`TaskCall`
with a deterministic id: the parent's id and the call's position among the
parent's calls in this attempt. So the entrypoint that runs again after an
interrupt or a crash makes the same ids in the same order, and a call whose
result the thread saved returns it without running (``tests/func/test_crash.py``,
and the resume cases of ``tests/conformance/test_func.py``). The id (a uuid5)
is worked out when first read: a run that saves nothing and streams no call
events never pays for it.

The call starts at once on the run's pools, in the run's lane: a sync function
with no retry policy, timeout or ``max_concurrency`` as one
:class:`~graphpool.func._future.QueuedCall` (the pool's future is the one the
caller gets), any other through :class:`~graphpool.func._attempts.Attempts`
(threads, or a worker process with ``executor="process"``), an async one on the
caller's event loop (on a pool thread's own loop when called from sync code).
As it finishes its
result is saved with the run's current checkpoint (a ``TaskResult`` named after
the task) and streamed (``_events``). A paused call saves the answers it used,
so its next attempt replays them; :func:`settle` gathers every paused call's
interrupts when the parent ends.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import uuid
from collections.abc import Callable
from typing import Any, cast

from .. import _lc
from .._context import CURRENT
from .._core.interrupts import Asking
from .._pool._thread import ThreadPool
from ..checkpoint._records import TaskResult
from ..errors import GraphInterrupt, NodeTimeoutError, NotInNodeError
from . import _traced
from ._attempts import Attempts
from ._events import RETURN, ended, started
from ._future import QueuedCall, TaskFuture, done_future
from ._gate import gate_for, run_gated

__all__ = ["RETURN", "Calls", "TaskCall", "asettle", "cancel_pending", "settle", "start_call"]

_PAUSED = "__interrupted__"  # a paused call's saved answers (error field: never reused)


class _CallTask:
    """A call as the runtime's helpers see a task: :class:`Asking` reads its id, a
    graph invoked inside the call (``_nest``) its node, id, step and order."""

    __slots__ = ("call", "node", "step")

    def __init__(self, call: TaskCall, node: str, step: int) -> None:
        self.call, self.node, self.step = call, node, step

    @property
    def id(self) -> str:
        return self.call.id

    @property
    def order(self) -> tuple[int, str]:
        return (0, self.call.id)


def call_id(parent_id: str, index: int, name: str) -> str:
    """The id of a parent's ``index``-th call (of task ``name``): the same in every
    attempt of the parent, so a resumed run finds the saved results by it."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{parent_id}|{index}|{name}"))


class Calls:
    """The task calls one attempt of a node (or of a task call) made, in order, and
    the config each task's calls start from (worked out once per task name)."""

    __slots__ = ("configs", "futures")

    def __init__(self) -> None:
        self.futures: list[TaskFuture[Any]] = []
        self.configs: dict[str, dict[str, Any]] = {}

    def config_for(self, parent: Any, name: str) -> dict[str, Any]:
        """The config a call of ``name`` sees: its parent's, naming the call as
        LangGraph names a pushed task (what ``messages`` chunks and tracers
        report); a fresh dict for each call, safe to modify."""
        made = self.configs.get(name)
        if made is None:
            made = self.configs[name] = _config_for(parent.config, name)
        config = made.copy()
        config["metadata"] = made["metadata"].copy()
        return config


def _calls_of(parent: Any) -> Calls:
    calls = parent.calls
    if calls is None:
        calls = parent.calls = Calls()
    return cast(Calls, calls)


def settle(parent: Any, error: GraphInterrupt | None) -> GraphInterrupt | None:
    """Wait for every call ``parent`` made; the interrupts they raised, with ``error``'s.

    As in LangGraph, where each call is a task of the step: a call that paused
    pauses the run even if the entrypoint never waited for it, and the
    interrupts of all calls that paused are pending together.
    """
    calls = parent.calls
    paused: list[GraphInterrupt] = []
    for future in calls.futures if calls is not None else ():
        try:
            future.result()
        except GraphInterrupt as exc:
            paused.append(exc)
        except BaseException:
            pass
    return _paused_all(paused, error)


def cancel_pending(parent: Any) -> None:
    """Cancel the calls ``parent`` made that have not finished (queued ones never start)."""
    calls = parent.calls
    for future in calls.futures if calls is not None else ():
        if not future.done():
            future.cancel()


async def asettle(parent: Any, error: GraphInterrupt | None) -> GraphInterrupt | None:
    """:func:`settle` for an async entrypoint (its calls may run on its loop)."""
    import asyncio

    calls = parent.calls
    paused: list[GraphInterrupt] = []
    for future in calls.futures if calls is not None else ():
        try:
            await asyncio.shield(asyncio.ensure_future(future))
        except GraphInterrupt as exc:
            paused.append(exc)
        except BaseException:
            pass
    return _paused_all(paused, error)


def _paused_all(
    paused: list[GraphInterrupt], error: GraphInterrupt | None
) -> GraphInterrupt | None:
    """``error``'s interrupts and those of the calls that paused, each once, in order."""
    found = list(error.interrupts) if error is not None else []
    seen = {getattr(i, "id", None) for i in found}
    for exc in paused:
        for item in exc.interrupts:
            if getattr(item, "id", None) not in seen:
                seen.add(getattr(item, "id", None))
                found.append(item)
    return GraphInterrupt(tuple(found)) if found else None


class TaskCall:
    """A running task call, as code inside it sees it (``_context.RunningTask``)."""

    __slots__ = (
        "_asking",
        "_id",
        "_seed",
        "attempt",
        "calls",
        "config",
        "dispatcher",
        "lc_run",
        "name",
        "slot",
        "task",
    )

    def __init__(self, dispatcher: Any, seed: tuple[str, int, str], name: str, config: Any) -> None:
        self.dispatcher = dispatcher
        self._seed = seed  # call_id's arguments: the id is worked out when first read
        self._id: str | None = None
        self.name = name
        self.config = config
        self.calls: Calls | None = None  # calls this one made (tasks calling tasks)
        self._asking: Asking | None = None
        self.attempt = 0  # counted by reset(): 1 for the first attempt
        self.slot: Any = None  # the running attempt's slot of the run's gate (``_gate``)
        self.task = _CallTask(self, name, dispatcher.run.step)
        self.lc_run: Any = None  # its langchain callback run, if its parent has callbacks

    def __repr__(self) -> str:
        return f"<TaskCall {self.name!r} id={self.id}>"

    @property
    def id(self) -> str:
        """The call's deterministic id (:func:`call_id`); a run that saves nothing and
        streams no call events never needs it, so it is made on first use."""
        ident = self._id
        if ident is None:
            ident = self._id = call_id(*self._seed)
        return ident

    @property
    def runtime(self) -> Any:
        return self.dispatcher.services.runtime

    def reset(self) -> None:
        """A new attempt: its ``interrupt()`` calls are counted from the first again."""
        self._asking = None
        self.attempt += 1

    def interrupt(self, value: Any, schema: Any = None, validate: Any = None) -> Any:
        if self._asking is None:
            run = self.dispatcher.run
            saved = run.reuse.get(self.id)
            if saved is not None and saved.error == _PAUSED and self.id not in run.answers:
                run.answers[self.id] = list(saved.answers)
            self._asking = Asking(run, cast(Any, self.task))
        return self._asking.interrupt(value, schema, validate)


def _parent() -> tuple[Any, str]:
    """The running node or task call, and its id (named on first use)."""
    parent: Any = CURRENT.get()
    if parent is None or not hasattr(parent, "dispatcher"):
        raise NotInNodeError(
            "Called get_config outside of a runnable context: a @task can only be called "
            "inside an @entrypoint or a graph node."
        )
    if isinstance(parent, TaskCall):
        return parent, parent.id
    task = parent.task
    if not task.id:  # a run without a checkpointer names its tasks only when asked
        task.id = parent.dispatcher.run.new_task_id()
    return parent, task.id


def start_call(spec: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> TaskFuture[Any]:
    """Start ``spec`` (a ``_TaskFunction``) with these arguments; its future."""
    parent, parent_id = _parent()
    calls = _calls_of(parent)
    dispatcher, name = parent.dispatcher, spec.name
    seed = (parent_id, len(calls.futures), name)
    call = TaskCall(dispatcher, seed, name, calls.config_for(parent, name))
    key = spec.cache_key(args, kwargs, dispatcher.services.cache)
    future = _reused(call, key) if key is not None or dispatcher.run.reuse else None
    if future is None:
        future = _launch(call, spec, args, kwargs, key)
    calls.futures.append(future)
    return future


def _config_for(parent: Any, name: str) -> dict[str, Any]:
    """A call of ``name``'s config, made from its parent's (see :meth:`Calls.config_for`)."""
    config = dict(parent or {})
    metadata = dict(config.get("metadata") or {})
    metadata.update(langgraph_node=name, langgraph_triggers=("__pregel_push",))
    metadata["langgraph_path"] = ("__pregel_push", name)
    config["metadata"] = metadata
    return config


def _reused(call: TaskCall, cache_key: Any) -> TaskFuture[Any] | None:
    """A saved or cached result of this call, as a done future, or None."""
    dispatcher = call.dispatcher
    saved = dispatcher.run.reuse.get(call.id)
    if saved is not None and saved.succeeded:
        return done_future(dict(saved.writes).get(RETURN))
    if cache_key is not None:
        found = dispatcher.services.cache.get([cache_key])
        if cache_key in found:
            _finished(call, found[cache_key])
            return done_future(found[cache_key])
    return None


def _finished(call: TaskCall, value: Any) -> None:
    """Save a finished call's result and stream it as an update."""
    hook = call.dispatcher.services.durability
    if hook is not None:
        hook.save(TaskResult(call.id, call.name, ((RETURN, value),)), "task")
    ended(call, value)


def _paused(call: TaskCall, error: GraphInterrupt) -> None:
    """Save the answers a paused call consumed, so its next attempt replays them."""
    hook = call.dispatcher.services.durability
    answers = tuple(call.dispatcher.run.answers.get(call.id, ()))
    if hook is not None and answers:
        hook.save(TaskResult(call.id, call.name, answers=answers, error=_PAUSED), "task")
    ended(call, interrupts=error.interrupts)
    _traced.close(call.lc_run, error=error)


def _failed(call: TaskCall, error: BaseException) -> None:
    ended(call, error=error)
    _traced.close(call.lc_run, error=error)


async def _run_async(call: TaskCall, spec: Any, args: Any, kwargs: Any, cache_key: Any) -> Any:
    token = CURRENT.set(call)
    gate = gate_for(call.dispatcher)
    try:
        attempt = 1
        while True:
            call.calls = None  # the attempt's own calls count from 0 again
            call.reset()
            try:
                with _lc.bind_config(call.config):
                    value = await run_gated(
                        gate,
                        call,
                        functools.partial(_attempt_async, call, spec, args, kwargs, attempt),
                    )
                break
            except GraphInterrupt as exc:
                _paused(call, exc)
                raise
            except Exception as exc:
                delay = spec.retry_delay(exc, attempt)
                if delay is None:
                    _failed(call, exc)
                    raise
                attempt += 1
                await asyncio.sleep(delay)
    finally:
        CURRENT.reset(token)
    _done(call, spec, value, cache_key=cache_key)
    return value


async def _attempt_async(call: TaskCall, spec: Any, args: Any, kwargs: Any, attempt: int) -> Any:
    """One attempt of an async call, within the task's ``timeout``."""
    if spec.timeout is None:
        return await spec.func(*args, **kwargs)
    try:
        return await asyncio.wait_for(spec.func(*args, **kwargs), spec.timeout)
    except asyncio.TimeoutError:
        raise NodeTimeoutError(
            f"Task {spec.name!r} timed out after {spec.timeout:g} s (attempt {attempt}, run "
            f"{call.dispatcher.lane}).",
            node=spec.name,
            attempt=attempt,
            run_id=str(call.dispatcher.lane),
            timeout=spec.timeout,
        ) from None


def _done(call: TaskCall, spec: Any, value: Any, *, cache_key: Any) -> None:
    if cache_key is not None:
        call.dispatcher.services.cache.set({cache_key: (value, spec.cache_policy.ttl)})
    _finished(call, value)
    _traced.close(call.lc_run, value)


def _once(call: TaskCall, spec: Any, args: Any, kwargs: Any, cache_key: Any) -> Any:
    """A call's only attempt, on a pool thread (or its waiter's): the outcome saved
    and streamed as ``Attempts`` does it, then returned or raised to its future."""
    token = CURRENT.set(call)
    try:
        with _lc.bind_config(call.config):  # for chat models the call makes
            value = spec.call_sync(call, args, kwargs)
    except GraphInterrupt as exc:
        CURRENT.reset(token)
        _paused(call, exc)
        raise
    except BaseException as exc:
        CURRENT.reset(token)
        _failed(call, exc)
        raise
    CURRENT.reset(token)
    _done(call, spec, value, cache_key=cache_key)
    return value


def _launch(call: TaskCall, spec: Any, args: Any, kwargs: Any, cache_key: Any) -> TaskFuture[Any]:
    dispatcher = call.dispatcher
    started(call, args, kwargs)
    call.lc_run = _traced.open_run(call, spec.func, args, kwargs)
    context = contextvars.copy_context()
    if spec.is_async:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        coro = _run_async(call, spec, args, kwargs, cache_key)
        if loop is not None:
            return TaskFuture(context.run(loop.create_task, coro))
        body: Callable[[], Any] = functools.partial(asyncio.run, coro)
        pool = dispatcher.services.pools.thread
        return TaskFuture(pool.submit_in(dispatcher.lane, context.run, body), pool)
    pool = dispatcher.services.pools.thread
    if (
        spec.timeout is None
        and not spec.retry_policy
        and isinstance(pool, ThreadPool)
        and gate_for(dispatcher) is None
    ):  # one attempt, nothing to time or gate: the pool's future is the call's
        call.reset()
        once = (_once, call, spec, args, kwargs, cache_key)
        future: QueuedCall[Any] = QueuedCall(pool, dispatcher.lane, context.run, once)
        pool.queue(future)
        return future
    attempts = Attempts(call, spec, args, kwargs, context)
    attempts.on_success = functools.partial(_done, call, spec, cache_key=cache_key)
    attempts.on_pause = functools.partial(_paused, call)
    attempts.on_failure = functools.partial(_failed, call)
    attempts.start()
    return attempts.future
