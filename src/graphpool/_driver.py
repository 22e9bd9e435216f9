"""Two thin drivers that carry out :meth:`Run.loop`'s events: one sync, one async.

A driver only submits and waits: it pumps the core's events, yields
``Emit`` chunks to its caller, waits for finished jobs on its own kind of queue
(a thread-safe queue, or an asyncio queue fed thread-safely), and runs ``Save``
where it may block (inline, or in a thread under asyncio). Everything else is
the :class:`~graphpool._dispatch.Dispatcher`'s, written once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ._core import Emit, Launch, Run, Save, Wait
from ._dispatch import Dispatcher
from ._services import Services

__all__ = ["drive_async", "drive_sync"]


def drive_sync(run: Run, services: Services, input: Any) -> Iterator[tuple[str, Any]]:
    """Run in the calling thread; yields ``(mode, chunk)`` stream events."""
    dispatch = Dispatcher(run, services, on_caller_loop=False)
    finished: queue.SimpleQueue[Any] = queue.SimpleQueue()
    dispatch.done = finished.put
    if services.nest is None:  # a subgraph's run rides in its root's admission
        services.pools.primary.admit(dispatch.lane, run.options.admission_timeout)
    dispatch.admitted()
    events = run.loop(input, dispatch.alone if dispatch.runs_alone else None)
    reply: Any = None
    try:
        while True:
            try:
                event = events.send(reply)
            except StopIteration:
                return
            reply = None
            if type(event) is Launch:  # the most frequent event first
                reply = dispatch.launch(event.task, event.alone)
            elif type(event) is Emit:
                yield from dispatch.drain_late()  # task calls' chunks, made before it
                yield event.mode, event.chunk
            elif type(event) is Wait and event.backoff:
                time.sleep(event.timeout or 0.0)  # looked up now: LangGraph's tests patch it
                reply = []
            elif type(event) is Wait:
                dispatch.watch_sink()
                kept = dispatch.help(event.timeout)  # ran here, finished last
                jobs = []
                if not kept and finished.empty():
                    dispatch.reclaim(event.timeout)  # its done callback has queued it
                if not kept:
                    try:
                        jobs.append(finished.get(timeout=event.timeout))
                    except queue.Empty:
                        pass
                while not finished.empty():
                    jobs.append(finished.get_nowait())
                reply = dispatch.collect(jobs + kept)  # in the order they finished
                yield from dispatch.drain_sink()
            elif type(event) is Save:
                dispatch.save(event)
            else:
                reply = dispatch.handle(event)
    finally:
        dispatch.close()


async def drive_async(run: Run, services: Services, input: Any) -> AsyncIterator[tuple[str, Any]]:
    """Run on the caller's event loop; yields ``(mode, chunk)`` stream events."""
    import asyncio  # here: sync programs never load it
    import inspect

    dispatch = Dispatcher(run, services, on_caller_loop=True)
    loop = asyncio.get_running_loop()
    finished: asyncio.Queue[Any] = asyncio.Queue()

    def done(job: Any) -> None:
        try:
            loop.call_soon_threadsafe(finished.put_nowait, job)
        except RuntimeError:  # the caller's loop is closed: the run ended, nobody waits
            pass

    dispatch.done = done
    primary, timeout = services.pools.primary, run.options.admission_timeout
    if services.nest is not None:  # a subgraph's run rides in its root's admission
        pass
    elif timeout == 0 or getattr(primary, "queue_size", 0) is None:  # admit never waits
        primary.admit(dispatch.lane, timeout)
    else:  # waiting for room must not block the event loop
        await _admit_async(primary, dispatch.lane, timeout)
    dispatch.admitted()
    events = run.loop(input)
    reply: Any = None
    try:
        while True:
            try:
                event = events.send(reply)
            except StopIteration:
                return
            reply = None
            if type(event) is Emit:
                for chunk in dispatch.drain_late():  # task calls' chunks, made before it
                    yield chunk
                yield event.mode, event.chunk
            elif type(event) is Wait and event.backoff:
                await asyncio.sleep(event.timeout or 0.0)
                reply = []
            elif type(event) is Wait:
                dispatch.watch_sink()
                try:
                    jobs = [await asyncio.wait_for(finished.get(), event.timeout)]
                except asyncio.TimeoutError:
                    jobs = []
                while not finished.empty():
                    jobs.append(finished.get_nowait())
                reply = dispatch.collect(jobs)
                for chunk in dispatch.drain_sink():
                    yield chunk
            elif type(event) is Save:
                await dispatch.asave(event)
            else:
                reply = dispatch.handle(event)
                if inspect.iscoroutine(reply):  # an async task run inline on this loop
                    reply = await reply
    finally:
        cancelled = dispatch.close()
        if cancelled:  # let them see their CancelledError before the caller goes on
            await asyncio.wait(cancelled, timeout=5)
        hook = services.durability
        if hook is not None and services.nest is None:  # durability="exit": save now
            await hook.aflush()


async def _admit_async(pool: Any, lane: Any, timeout: float | None) -> None:
    """``pool.admit`` in a thread; if the caller is cancelled while it waits, an
    admission that still comes through is given back at once (or it would leak)."""
    import asyncio
    import concurrent.futures

    admitting: concurrent.futures.Future[None] = concurrent.futures.Future()

    def admit() -> None:
        if admitting.set_running_or_notify_cancel():
            try:
                pool.admit(lane, timeout)
            except BaseException as exc:
                admitting.set_exception(exc)
            else:
                admitting.set_result(None)

    threading.Thread(target=admit, name="graphpool-admit", daemon=True).start()
    try:
        await asyncio.wrap_future(admitting)
    except asyncio.CancelledError:

        def give_back(done: concurrent.futures.Future[None]) -> None:
            if not done.cancelled() and done.exception() is None:
                pool.release(lane, 0.0)

        admitting.add_done_callback(give_back)
        raise
