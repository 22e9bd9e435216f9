"""Thin drivers that carry out :meth:`Run.loop`'s instructions: one sync, one async.

Neither holds any superstep logic; they only start tasks and wait for them.

* Sync driver (``invoke``/``stream``): sync nodes go to the pool; async nodes
  go to the shared background event loop. A step's only task runs in the
  caller's thread when the pool allows it (it saves a thread hop per step).
* Async driver (``ainvoke``/``astream``): async nodes run as asyncio tasks on
  the caller's loop; sync nodes go to the pool, so a thread never blocks the loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ._pool import WorkerPool
from ._pool._loop import submit_coroutine
from ._scheduler import EMIT, LAUNCH, SAVE, Run
from ._task import Task

__all__ = ["drive_async", "drive_sync", "execute_async", "execute_sync"]


def _config_for(run: Run, task: Task, wants: bool) -> Any:
    return run.options.for_node(task.step, task.node, task.triggers) if wants else None


def execute_sync(run: Run, task: Task) -> Task:
    """Run one task to completion in this thread; its outcome is recorded on the task."""
    body = run.body(task)
    value = None
    try:
        while True:
            callee, arg = body.send(value)
            value = callee.call_sync(arg, _config_for(run, task, callee.wants_config))
    except StopIteration:
        pass
    except BaseException as exc:  # the scheduler decides: retry or fail the run
        task.fail(exc)
    return task


async def execute_async(run: Run, task: Task) -> Task:
    """Like :func:`execute_sync`, awaiting async nodes and routes on the running loop."""
    body = run.body(task)
    value = None
    try:
        while True:
            callee, arg = body.send(value)
            value = await callee.call_async(arg, _config_for(run, task, callee.wants_config))
    except StopIteration:
        pass
    except BaseException as exc:
        task.fail(exc)
    return task


def _is_async(run: Run, task: Task) -> bool:
    spec = run.topology.nodes.get(task.node)
    return spec is not None and spec.callee.is_async


def drive_sync(run: Run, input: Any, pool: WorkerPool) -> Iterator[tuple[str, Any]]:
    """Run in the calling thread; yields ``(mode, chunk)`` stream events."""
    loop = run.loop(input)
    inflight: dict[concurrent.futures.Future[Task], Task] = {}
    ready: list[Task] = []
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
                if _is_async(run, task):
                    inflight[submit_coroutine(execute_async(run, task))] = task
                elif (alone and pool.runs_inline) or task.node == "__start__":
                    ready.append(execute_sync(run, task))
                else:
                    ctx = contextvars.copy_context()
                    inflight[pool.submit(ctx.run, execute_sync, run, task)] = task
            elif kind == SAVE:
                run.checkpointing.save(instruction[1], instruction[2])
            elif ready:
                reply, ready = ready, []
            else:
                done, _ = concurrent.futures.wait(
                    inflight, timeout=instruction[1], return_when=concurrent.futures.FIRST_COMPLETED
                )
                reply = [inflight.pop(f) for f in done]
    finally:
        for future in inflight:
            future.cancel()


async def drive_async(run: Run, input: Any, pool: WorkerPool) -> AsyncIterator[tuple[str, Any]]:
    """Run on the caller's event loop; yields ``(mode, chunk)`` stream events."""
    loop = run.loop(input)
    inflight: dict[asyncio.Future[Task], Task] = {}
    ready: list[Task] = []
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
                if task.node == "__start__" or (alone and _is_async(run, task)):
                    ready.append(await execute_async(run, task))
                elif _is_async(run, task):
                    inflight[asyncio.ensure_future(execute_async(run, task))] = task
                else:
                    ctx = contextvars.copy_context()
                    handed = pool.submit(ctx.run, execute_sync, run, task)
                    inflight[asyncio.wrap_future(handed)] = task
            elif kind == SAVE:
                await asyncio.to_thread(run.checkpointing.save, instruction[1], instruction[2])
            elif ready:
                reply, ready = ready, []
            else:
                done, _ = await asyncio.wait(
                    inflight, timeout=instruction[1], return_when=asyncio.FIRST_COMPLETED
                )
                reply = [inflight.pop(f) for f in done]
    finally:
        for future in inflight:
            future.cancel()
