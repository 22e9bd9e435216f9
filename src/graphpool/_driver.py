"""Thin drivers that carry out :meth:`Run.loop`'s instructions: one sync, one async.

Neither holds any superstep logic; they start tasks, wait for them, and stop
the ones the scheduler gives up on. Where a task goes depends on its node's
executor (see ``StateGraph.add_node``):

* ``thread``: the thread pool; under the sync driver a step's only task runs
  in the caller's thread instead, when it has no timeout (saves a thread hop).
* ``async``: an event loop: the caller's under ``ainvoke``/``astream``, the
  shared background loop under ``invoke``/``stream``. A thread never blocks it.
* ``process``: a pool thread runs the task and sends the node call to the
  process pool (routes and write handling stay in this process).
* ``ray``: the same, with the node call sent to a Ray cluster as a Ray task.

Completions arrive through a queue fed by done-callbacks, so waiting costs
O(1) per finished task even with thousands in flight.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from . import _lc
from ._constants import START
from ._node import Callee
from ._pool import Pools
from ._pool._loop import submit_coroutine
from ._scheduler import ABANDON, EMIT, LAUNCH, SAVE, Outcome, Run
from ._task import Task, TaskState
from .errors import WorkerCrashedError

__all__ = ["drive_async", "drive_sync", "execute_async", "execute_sync"]


def _config_for(run: Run, task: Task, callee: Callee) -> Any:
    # with langchain-core loaded every call gets its config: it is bound as
    # langchain's current config, so models called inside the node inherit it
    if callee.wants_config or _lc.loaded():
        return run.options.for_node(task.step, task.node, task.triggers)
    return None


def _call_in_process(run: Run, task: Task, callee: Callee, arg: Any, pools: Pools) -> Any:
    """Run a node call in a worker process; wait here for its result."""
    from ._pool._process import dumps_for_worker, loads_from_worker

    fn = functools.partial(callee.call_sync, config=_config_for(run, task, callee))
    payload = dumps_for_worker(task.node, fn, arg)
    lane = run.options.run_id
    task.handle = handle = pools.process.submit_call(payload, lane)  # type: ignore[attr-defined]
    try:
        return loads_from_worker(handle.result())
    except Exception as exc:
        if type(exc).__name__ == "ProcessExpired":  # pebble: the worker died
            raise WorkerCrashedError(
                f"The worker process running node {task.node!r} died ({exc}; attempt "
                f"{task.attempt}, run {run.options.run_id}).",
                node=task.node,
                attempt=task.attempt,
                run_id=run.options.run_id,
            ) from exc
        raise
    finally:
        if task.handle is handle:  # not yet the handle of a later attempt
            task.handle = None


def _call_in_ray(run: Run, task: Task, callee: Callee, arg: Any, pools: Pools) -> Any:
    """Run a node call as a Ray task; wait here for its result."""
    pool = pools.ray
    fn = functools.partial(callee.call_sync, config=_config_for(run, task, callee))
    sent = pool.input_for(run, task.step, task.node, arg)  # type: ignore[attr-defined]
    resources = run.topology.nodes[task.node].resources
    attempt = task.attempt
    task.handle = ref = pool.submit_call(fn, sent, resources)  # type: ignore[attr-defined]
    try:
        if task.attempt != attempt or task.state is not TaskState.RUNNING:
            pool.abandon(ref)  # timed out while the input was being sent
        return pool.result(  # type: ignore[attr-defined]
            ref, node=task.node, attempt=attempt, run_id=run.options.run_id
        )
    finally:
        if task.handle is ref:
            task.handle = None


_REMOTE = {"process": _call_in_process, "ray": _call_in_ray}


def execute_sync(run: Run, task: Task, pools: Pools) -> Outcome:
    """Run one attempt of a task in this thread; never raises."""
    task.began()
    body = run.body(task)
    remote = _REMOTE.get(run.executor_of(task.node)) if task.node != START else None
    value = None
    try:
        callee, arg = body.send(None)
        if remote is not None:
            value = remote(run, task, callee, arg, pools)
            callee, arg = body.send(value)
        while True:
            value = callee.call_sync(arg, _config_for(run, task, callee))
            callee, arg = body.send(value)
    except StopIteration as stop:
        return task, stop.value, None
    except BaseException as exc:  # the scheduler decides: retry or fail the run
        return task, None, exc
    finally:
        task.ended()


async def execute_async(run: Run, task: Task) -> Outcome:
    """Like :func:`execute_sync`, awaiting async nodes and routes on the running loop."""
    task.began(f"asyncio@{threading.current_thread().name}")
    body = run.body(task)
    value = None
    try:
        while True:
            callee, arg = body.send(value)
            value = await callee.call_async(arg, _config_for(run, task, callee))
    except StopIteration as stop:
        return task, stop.value, None
    except BaseException as exc:
        return task, None, exc
    finally:
        task.ended()


def _on_loop(run: Run, task: Task) -> bool:
    return task.node == START or run.executor_of(task.node) == "async"


def _abandon(run: Run, task: Task, future: Any, pools: Pools) -> None:
    """Stop a timed-out attempt as well as its executor can."""
    if _on_loop(run, task):
        if pools.async_pool is not None and task.node != START:
            pools.async_pool.abandon(future)
        else:
            future.cancel()  # cancels the coroutine on its loop
        return
    if task.handle is not None:  # kills the worker process (process, ray)
        pools.of(run.executor_of(task.node)).abandon(task.handle)
    pools.thread.abandon(future)


def _collect(
    finished: list[Any], inflight: dict[Any, Task], futures: dict[Task, Any]
) -> list[Outcome]:
    """The outcomes of the finished futures still awaited (not abandoned, not a wake-up).

    A future cancelled by its pool (``shutdown(cancel=True)`` mid-run) is a failed
    attempt with an error naming the node, so the run ends instead of waiting
    for a result that will never come.
    """
    outcomes: list[Outcome] = []
    for future in finished:
        task = inflight.pop(future, None)
        if task is None:
            continue
        del futures[task]
        if future.cancelled():
            error = RuntimeError(
                f"Node {task.node!r} was cancelled before it finished: the pool running it "
                "was shut down."
            )
            outcomes.append((task, None, error))
        else:
            outcomes.append(future.result())
    return outcomes


def drive_sync(run: Run, pools: Pools, input: Any) -> Iterator[tuple[str, Any]]:
    """Run in the calling thread; yields ``(mode, chunk)`` stream events."""
    lane = run.options.run_id
    pools.primary.admit(lane, run.options.admission_timeout)
    run.metrics = getattr(pools.primary, "metrics", None)
    began = time.monotonic()
    loop = run.loop(input)
    sink, watched = run.sink, None  # chunks made inside running tasks (stream "messages")
    done: queue.SimpleQueue[concurrent.futures.Future[Any]] = queue.SimpleQueue()
    inflight: dict[concurrent.futures.Future[Outcome], Task] = {}
    futures: dict[Task, concurrent.futures.Future[Outcome]] = {}
    ready: list[Outcome] = []
    reply: Any = None
    try:
        while True:
            try:
                instruction = loop.send(reply)
            except StopIteration:
                return
            reply = None
            kind = instruction[0]
            if kind == EMIT:
                yield instruction[1], instruction[2]
            elif kind == LAUNCH:
                task, alone = instruction[1], instruction[2]
                alone = alone and sink is None  # inline, its chunks could not go out live
                if _on_loop(run, task) and pools.async_pool is not None and task.node != START:
                    future = pools.async_pool.submit_in(lane, execute_async, run, task)
                elif _on_loop(run, task):
                    future = submit_coroutine(execute_async(run, task))
                elif alone and pools.thread.runs_inline:
                    ready.append(execute_sync(run, task, pools))
                    continue
                else:
                    ctx = contextvars.copy_context()
                    future = pools.thread.submit_in(lane, ctx.run, execute_sync, run, task, pools)
                inflight[future] = task
                futures[task] = future
                future.add_done_callback(done.put)
            elif kind == ABANDON:
                task = instruction[1]
                future = futures.pop(task)
                del inflight[future]
                _abandon(run, task, future, pools)
            elif kind == SAVE:
                run.checkpointing.save(instruction[1], instruction[2])
            elif ready:
                reply, ready = ready, []
            else:
                if sink is not None and sink.wake is not watched:
                    watched = sink.wake
                    watched.add_done_callback(done.put)
                try:
                    finished = [done.get(timeout=instruction[1])]
                except queue.Empty:
                    finished = []
                while not done.empty():
                    finished.append(done.get_nowait())
                reply = _collect(finished, inflight, futures)
                if sink is not None:  # chunks tasks made while running, before they end
                    yield from sink.drain()
    finally:
        for task, future in futures.items():
            _abandon(run, task, future, pools)
        pools.primary.release(lane, time.monotonic() - began)


async def drive_async(run: Run, pools: Pools, input: Any) -> AsyncIterator[tuple[str, Any]]:
    """Run on the caller's event loop; yields ``(mode, chunk)`` stream events."""
    lane = run.options.run_id
    timeout = run.options.admission_timeout
    if timeout == 0:
        pools.primary.admit(lane, 0)
    else:  # waiting for room must not block the event loop
        await asyncio.get_running_loop().run_in_executor(None, pools.primary.admit, lane, timeout)
    run.metrics = getattr(pools.primary, "metrics", None)
    began = time.monotonic()
    loop = run.loop(input)
    sink, watched = run.sink, None
    event_loop = asyncio.get_running_loop()
    done: asyncio.Queue[Any] = asyncio.Queue()
    inflight: dict[asyncio.Future[Outcome], Task] = {}
    futures: dict[Task, Any] = {}  # the asyncio task, or the pool's concurrent future
    ready: list[Outcome] = []
    reply: Any = None
    try:
        while True:
            try:
                instruction = loop.send(reply)
            except StopIteration:
                return
            reply = None
            kind = instruction[0]
            if kind == EMIT:
                yield instruction[1], instruction[2]
            elif kind == LAUNCH:
                task, alone = instruction[1], instruction[2]
                alone = alone and sink is None
                waiter: asyncio.Future[Outcome]
                if _on_loop(run, task) and pools.async_pool is not None and task.node != START:
                    handed = pools.async_pool.submit_in(lane, execute_async, run, task)
                    waiter = asyncio.wrap_future(handed)
                    futures[task] = handed
                elif _on_loop(run, task):
                    if alone:
                        ready.append(await execute_async(run, task))
                        continue
                    waiter = asyncio.ensure_future(execute_async(run, task))
                    futures[task] = waiter
                else:
                    ctx = contextvars.copy_context()
                    handed = pools.thread.submit_in(lane, ctx.run, execute_sync, run, task, pools)
                    waiter = asyncio.wrap_future(handed)
                    futures[task] = handed
                inflight[waiter] = task
                waiter.add_done_callback(done.put_nowait)
            elif kind == ABANDON:
                task = instruction[1]
                future = futures.pop(task)
                for stale in [w for w, owner in inflight.items() if owner is task]:
                    del inflight[stale]
                _abandon(run, task, future, pools)
            elif kind == SAVE:
                await asyncio.to_thread(run.checkpointing.save, instruction[1], instruction[2])
            elif ready:
                reply, ready = ready, []
            else:
                if sink is not None and sink.wake is not watched:
                    watched = sink.wake
                    watched.add_done_callback(
                        lambda f: event_loop.call_soon_threadsafe(done.put_nowait, f)
                    )
                try:
                    finished = [await asyncio.wait_for(done.get(), instruction[1])]
                except asyncio.TimeoutError:
                    finished = []
                while not done.empty():
                    finished.append(done.get_nowait())
                reply = _collect(finished, inflight, futures)
                if sink is not None:
                    for chunk in sink.drain():
                        yield chunk
    finally:
        for task, future in futures.items():
            _abandon(run, task, future, pools)
        pools.primary.release(lane, time.monotonic() - began)
