"""The worker loop: lease queued runs and run them with ``astream`` on the shared pools.

At most ``concurrency`` runs at once in this process; each run's events go to the
broker as they come, and its end (status, result, the thread's new state) is one
transaction (``RunQueue.finish``). Leases are renewed every ``lease / 3`` seconds;
expired ones (a process that died) are put back in the queue. The queue's reads
and writes run on the runtime's database thread (``Runtime.db``), except, on
SQLite, a run's admission and claim (``Worker.admit``): made on the loop, like the
runs' checkpoint writes, they cost no round trip there (its first event sooner).
A run admitted while this process has room is claimed as it is admitted.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

from .._compiled import CompiledStateGraph
from ..types import Command, Send
from ._errors import ApiError
from ._events import EventShaper, library_modes
from ._json import dumps, plain
from ._queue import owner_id
from ._runtime import Runtime
from ._saver_rows import drop_checkpoints
from ._webhook import send

__all__ = ["Worker"]

T = TypeVar("T")

log = logging.getLogger("graphpool.server")

LEASE_SECONDS = 30.0
KEEP_EVENTS_SECONDS = 3600.0  # shared database: a finished run's events, for late joiners

# What a claimed run needs to begin: its record (None: deleted meanwhile), its
# assistant, and the events a resumable run (or any, shared) already sent.
_Loaded = tuple[dict[str, Any] | None, dict[str, Any], list[tuple[str, str]]]


class Worker:
    """Runs queued runs; :meth:`cancel` stops one that is running here."""

    def __init__(
        self, runtime: Runtime, concurrency: int, lease_seconds: float = LEASE_SECONDS
    ) -> None:
        self.runtime = runtime
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.owner = owner_id()
        self.running: dict[str, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._beat_task: asyncio.Task[None] | None = None
        self.stopping = False
        self._webhooks: set[asyncio.Task[None]] = set()
        self.rollback: set[str] = set()  # runs cancelled with multitask "rollback"
        # A run leased here but whose task has not begun (its claim is still out on the
        # database thread, or its task not yet stepped) cannot take task.cancel(): the
        # cancel is kept in ``_early`` and the run begins cancelled
        # (test_runs.py::test_cancel_a_running_run, ::test_multitask_interrupt_...).
        self._claiming = 0  # claims out on the database thread
        self._reserved = 0  # room those claims may fill (PostgreSQL)
        self._unstarted: set[str] = set()  # runs leased here whose task is not made yet
        self._begun: set[str] = set()
        self._early: set[str] = set()
        self.cancelled: set[str] = set()  # runs cancelled, still recording how they ended
        self._ending: set[str] = set()  # runs recording how they ended: not to be stopped
        self._swept = 0.0  # when old run events were last dropped (shared database)
        self.lost: set[str] = set()  # runs whose lease another server took: stop, record nothing

    def start(self) -> None:
        self.runtime.queue.recover(self.lease_seconds)
        self._loop_task = asyncio.get_running_loop().create_task(self._take())
        self._beat_task = asyncio.get_running_loop().create_task(self._heartbeat())

    async def stop(self) -> None:
        self.stopping = True
        for task in (self._loop_task, self._beat_task, *self.running.values()):
            if task is not None:
                task.cancel()
        tasks = [t for t in (self._loop_task, self._beat_task, *self.running.values()) if t]
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.runtime.queue.aclose()

    def cancel(self, run_id: str, *, rollback: bool = False) -> bool:
        """Cancel the run if it runs in this process; whether it does. ``rollback``:
        also delete the run and the checkpoints it made, before its thread is free.

        While a claim is out on the database thread, the run may be about to begin
        here: the cancel is kept for it (``_early``) but False is returned, so that
        on a shared database the caller asks whichever server holds the run too."""
        task = self.running.get(run_id)
        if task is None:
            if self._claiming > 0:
                self._early.add(run_id)
                if rollback:
                    self.rollback.add(run_id)
            return False
        if rollback:
            self.rollback.add(run_id)
        if run_id in self.cancelled or run_id in self._ending:
            return True  # once: a second would cut its recording short
        self.cancelled.add(run_id)
        if run_id in self._begun:
            task.cancel()
        else:
            self._early.add(run_id)
        return True

    def _lose(self, run_id: str) -> None:
        """This server was cut off past the run's lease and another took the run over:
        stop it without recording anything. Clients following it here are cut off
        and reconnect; a new follower reads the run from the database (_follow)."""
        log.warning("run %s: lease lost (another server runs it now); stopping it", run_id)
        self.lost.add(run_id)
        self.running[run_id].cancel()
        self.runtime.broker.forget(run_id)

    async def _take_cancels(self) -> None:
        """Cancel the runs here that another server was asked to stop (PostgreSQL)."""
        queue = self.runtime.queue
        if not self.running:
            return
        asked = await self.runtime.db(queue.cancels, self.owner, list(self.running))
        for run_id, action in asked:
            self.cancel(run_id, rollback=action == "rollback")

    def _roll_back(self, record: Mapping[str, Any]) -> None:
        """Delete the checkpoints the run made (those its run id marks)."""
        config = {"configurable": {"thread_id": record["thread_id"]}}
        made = [
            saved.config["configurable"]["checkpoint_id"]
            for saved in self.runtime.saver.list(config, filter={"run_id": record["run_id"]})
        ]
        drop_checkpoints(self.runtime.storage, record["thread_id"], made)

    async def _take(self) -> None:
        queue = self.runtime.queue
        while True:
            try:
                if queue.cancels_announced():  # another server asked to stop a run here
                    await self._take_cancels()
                room = self._room()
                claimed: list[tuple[str, _Loaded]] = []
                if not self.runtime.shared:  # the room is counted there, under the lock
                    self._claiming += 1
                    try:
                        claimed = await self.runtime.db(self._claim_local, urgent=True)
                    finally:
                        self._claiming -= 1
                elif room > 0:
                    self._claiming += 1
                    self._reserved += room
                    try:
                        claimed = await self.runtime.db(self._claim, room, urgent=True)
                    finally:
                        self._claiming -= 1
                        self._reserved -= room
            except Exception:  # the database was busy or gone: try again, keep serving
                log.exception("reading the run queue failed")
                await asyncio.sleep(1.0)
                continue
            self._start(claimed)
            if not claimed:
                await queue.wait(1.0)

    def _room(self) -> int:
        return self.concurrency - len(self.running) - len(self._unstarted) - self._reserved

    def _claim_local(self) -> list[tuple[str, _Loaded]]:
        """SQLite: as many runs as there is room for, the room counted under the
        database's lock, as admissions on the loop count it (``admit``): a claim out
        on the database thread holds no room back from them meanwhile."""
        with self._local_lock():
            return self._claim(max(0, self._room()))

    def _local_lock(self) -> contextlib.AbstractContextManager[Any]:
        lock = getattr(self.runtime.storage, "lock", None)  # SqliteStorage's
        return contextlib.nullcontext() if lock is None else lock

    def _start(self, claimed: list[tuple[str, _Loaded]]) -> None:
        """Begin the runs just leased here (on the loop); stopping, they stay leased
        (as after a crash, the next start takes them back)."""
        for run_id, loaded in claimed if not self.stopping else ():
            task = asyncio.get_running_loop().create_task(self._execute(run_id, loaded))
            self.running[run_id] = task
            task.add_done_callback(self._forget)
        self._unstarted.difference_update(run_id for run_id, _ in claimed)
        if not self._claiming:
            stale = self._early - set(self.running)  # cancels of runs not leased here
            self._early -= stale
            self.rollback -= stale

    async def admit(self, commit: Callable[[], T], run_id: str) -> T:
        """``commit()`` (admitting the run ``run_id``) on the database thread (on
        SQLite, right here); then, if this process has room, a claim in the same go:
        usually of that very run, which begins at once, without waiting for the worker
        loop to wake and claim it (a stream's first event comes that much sooner). The
        claim is the worker's own (the oldest claimable run): the queue's order and
        limits hold."""
        running = self._loop_task is not None and not self.stopping  # started, not stopping
        # the runs admitted before it and still waiting go first (the queue's order):
        # claimed with it, or it would wait in turn for the next run's admission
        if not self.runtime.shared:
            # SQLite: on the loop, like the runs' checkpoint writes (LoopSqliteSaver):
            # a dozen short statements on a local file, where a hop to the database
            # thread and back cost a wait there and two rounds of a busy loop
            with self._local_lock():
                room = max(0, self._room()) if running else 0
                committed, claimed = self._commit_and_claim(commit, run_id, room)
            self._start(claimed)
            return committed
        room = max(0, self._room()) if running else 0
        self._claiming += 1
        self._reserved += room
        loop = asyncio.get_running_loop()
        future = self.runtime.db_future(self._commit_and_claim, commit, run_id, room, urgent=True)

        def settle(done: concurrent.futures.Future[tuple[T, list[tuple[str, _Loaded]]]]) -> None:
            # on the database thread as the hop ends, before the caller hears (and even
            # if it went away meanwhile): the claimed runs begin in the loop's next round
            ok = not done.cancelled() and done.exception() is None
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing to begin
                loop.call_soon_threadsafe(self._settle_claim, room, done.result()[1] if ok else [])

        future.add_done_callback(settle)
        committed, _ = await asyncio.wrap_future(future)
        return committed

    def _settle_claim(self, room: int, claimed: list[tuple[str, _Loaded]]) -> None:
        self._claiming -= 1
        self._reserved -= room
        self._start(claimed)

    def _commit_and_claim(
        self, commit: Callable[[], T], run_id: str, room: int
    ) -> tuple[T, list[tuple[str, _Loaded]]]:
        queue = self.runtime.queue
        with queue.held_wakeups() as held:
            committed = commit()
        claimed: list[tuple[str, _Loaded]] = []
        try:
            claimed = self._claim(room, until=run_id) if room else []
        except Exception:  # the run is admitted all the same: the worker loop claims it
            log.exception("claiming a run as it was admitted failed")
            held.append(True)
        if held and run_id not in {claimed_id for claimed_id, _ in claimed}:
            queue.notify()  # the worker loop takes it (or another run that can go now)
        return committed, claimed

    def _claim(self, room: int, until: str | None = None) -> list[tuple[str, _Loaded]]:
        """Lease up to ``room`` runs at once, oldest first, each with what it needs to
        begin (on the database thread: one hop for the lot); ``until``: stop once
        that run is leased."""
        claimed: list[tuple[str, _Loaded]] = []
        while len(claimed) < room:
            try:
                run_id = self.runtime.queue.claim(self.owner, self.lease_seconds)
                loaded = None if run_id is None else self._load(run_id)
            except Exception:
                if not claimed:
                    raise
                log.exception("claiming runs failed; beginning the %d leased", len(claimed))
                break
            if run_id is None or loaded is None:
                break
            self._unstarted.add(run_id)  # until _start makes its task
            claimed.append((run_id, loaded))
            if run_id == until:
                break
        return claimed

    def _forget(self, task: asyncio.Task[None]) -> None:
        for run_id, running in list(self.running.items()):
            if running is task:
                del self.running[run_id]
                self._begun.discard(run_id)
                self._ending.discard(run_id)
                self.cancelled.discard(run_id)
                self.lost.discard(run_id)
                self.rollback.discard(run_id)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            runtime, queue = self.runtime, self.runtime.queue
            try:
                beating = list(self.running)
                held = await runtime.db(queue.heartbeat, self.owner, beating, self.lease_seconds)
                for run_id in set(beating) - held:
                    # (a run recording its end no longer holds a lease to renew)
                    if run_id in self.running and run_id not in self._ending:
                        self._lose(run_id)
                await runtime.db(queue.recover, self.lease_seconds)
                await self._take_cancels()  # in case a NOTIFY was missed
                if runtime.shared and time.time() - self._swept > 60:
                    self._swept = time.time()
                    ended = time.time() - KEEP_EVENTS_SECONDS
                    stamp = datetime.datetime.fromtimestamp(ended, datetime.timezone.utc)
                    await runtime.db(runtime.storage.drop_events, stamp.isoformat())
            except Exception:  # next beat tries again; leases last three beats
                log.exception("renewing run leases failed")

    async def _execute(self, run_id: str, loaded: _Loaded) -> None:
        self._begun.add(run_id)
        cancelled = run_id in self._early
        if cancelled:
            self._early.discard(run_id)
            self.cancelled.add(run_id)
        try:
            await self._execute_run(run_id, loaded, cancelled)
        except asyncio.CancelledError:
            raise
        except Exception:  # the run stays leased to this process; a restart retries it
            log.exception("run %s could not be recorded", run_id)

    async def _execute_run(self, run_id: str, loaded: _Loaded, cancelled: bool) -> None:
        runtime = self.runtime
        record, assistant, kept = loaded
        if record is None:
            return
        events = runtime.broker.open(run_id)
        kwargs: dict[str, Any] = record["kwargs"]
        thread_id = record["thread_id"]

        def push(event: str, data: str) -> None:
            events.push(event, data)
            if not runtime.shared:  # shared: thread followers read the database (_follow)
                runtime.broker.to_thread(thread_id, event, data)

        if kwargs.get("resumable") or runtime.shared:
            # a run taken over (a restart, or another server died): what went out
            # before, less what a follower here already copied from the database
            events.catch_up(kept[len(events.events) :])
            events.persist = functools.partial(runtime.storage.append_events, run_id)
        graph = runtime.graphs.get(assistant.get("graph_id", ""))
        push("metadata", dumps({"run_id": run_id, "attempt": record["attempt"]}))
        status, result = "error", None
        finished: dict[str, Any] | None = None
        config = _config(record, assistant)
        try:
            if graph is None:
                raise ApiError(404, f"graph {assistant.get('graph_id')!r} is not served")
            if cancelled:  # cancelled before it began (see ``_early``)
                raise asyncio.CancelledError
            status, result = await self._drive(graph, record, assistant, config, push)
        except asyncio.CancelledError:
            if self.stopping or run_id in self.lost:  # shutting down, or lost: the run
                raise  # stays as it is in the database; another server resumes it
            status = "interrupted"
        except Exception as exc:  # a failed run is reported to its clients, not raised
            log.info("run %s failed: %r", run_id, exc)
            result = {"__error__": {"error": type(exc).__name__, "message": str(exc)}}
            push("error", dumps(result["__error__"]))
        rolled_back = run_id in self.rollback
        self.rollback.discard(run_id)
        self._ending.add(run_id)
        try:
            await events.written()  # every event in the database before the run is final
            finished = await runtime.db(
                self._record_end, record, graph, config, status, result, rolled_back
            )
        finally:
            events.result = result
            runtime.broker.close(run_id)
        if kwargs.get("webhook"):
            self._send_webhook(kwargs["webhook"], finished or {"run_id": run_id}, result)

    def _load(self, run_id: str) -> _Loaded:
        """The run's record, its assistant, and the events a resumable run (any run,
        on a shared database) already sent."""
        storage = self.runtime.storage
        record = storage.run_record(run_id)
        if record is None:
            return None, {}, []
        assistant = storage.get_assistant(record["assistant_id"]) or {}
        kept = (
            storage.run_events(run_id)
            if record["kwargs"].get("resumable") or self.runtime.shared
            else []
        )
        return record, assistant, kept

    def _record_end(
        self,
        record: Mapping[str, Any],
        graph: CompiledStateGraph | None,
        config: dict[str, Any],
        status: str,
        result: Any,
        rolled_back: bool,
    ) -> dict[str, Any] | None:
        """Finish the run in the queue with its thread's new state, and drop what it
        leaves behind (on the database thread); the run's record as it finished (for
        its webhook; None without one)."""
        runtime, run_id = self.runtime, record["run_id"]
        kwargs = record["kwargs"]
        dropped = kwargs.get("temporary") and kwargs.get("on_completion", "delete") == "delete"
        if rolled_back:
            self._roll_back(record)
        thread_id, webhook = record["thread_id"], kwargs.get("webhook")
        if dropped and not webhook:  # the thread goes with the run: nobody reads its state
            if runtime.queue.finish(run_id, status, result, None, self.owner):
                runtime.saver.delete_thread(thread_id)
            return None
        thread = _thread_after(None if dropped else graph, config, status)
        runtime.queue.finish(run_id, status, result, thread, self.owner)
        finished = runtime.storage.get_run(run_id) if webhook else None  # before it goes
        if rolled_back:
            runtime.storage.delete_run(run_id)
        if dropped:
            runtime.storage.delete_thread(thread_id)
            runtime.saver.delete_thread(thread_id)
        return finished

    def _send_webhook(self, url: str, run: dict[str, Any], result: Any) -> None:
        payload = {**run, "values": result}
        if isinstance(result, dict) and "__error__" in result:
            payload["error"] = result["__error__"]
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(send, url, payload))
        self._webhooks.add(task)
        task.add_done_callback(self._webhooks.discard)

    async def _drive(
        self,
        graph: CompiledStateGraph,
        record: Mapping[str, Any],
        assistant: Mapping[str, Any],
        config: dict[str, Any],
        push: Any,
    ) -> tuple[str, Any]:
        kwargs: Mapping[str, Any] = record["kwargs"]
        modes = kwargs.get("stream_mode") or ["values"]
        shaper = EventShaper(modes)
        subgraphs = bool(kwargs.get("subgraphs"))
        resumed = record["attempt"] > 1 and await _has_checkpoint(graph, config)
        options: dict[str, Any] = {
            "stream_mode": library_modes(modes),
            "subgraphs": subgraphs,
            "context": {**(assistant.get("context") or {}), **(kwargs.get("context") or {})}
            or None,
        }
        for key in ("interrupt_before", "interrupt_after", "durability"):
            if kwargs.get(key) is not None:
                options[key] = kwargs[key]
        last_values: Any = None
        run_input = None if resumed else _input(kwargs)
        items = (
            _with_events(graph, run_input, config, options, push)
            if "events" in modes
            else graph.astream(run_input, config, **options)
        )
        async for item in items:
            ns, mode, chunk = item if subgraphs else ((), *item)
            if mode == "values" and not ns:
                last_values = chunk
            for event, data in shaper.shape(ns, mode, chunk):
                push(event, dumps(data))
        return "success", plain(last_values)


def _thread_after(
    graph: CompiledStateGraph | None, config: dict[str, Any], status: str
) -> dict[str, Any]:
    """The thread's status, values and pending interrupts after a run."""
    thread: dict[str, Any] = {"status": "error" if status == "error" else "idle"}
    thread.update(values=None, interrupts={})
    if graph is None:
        return thread
    with contextlib.suppress(Exception):  # a broken checkpoint must not lose the run
        snapshot = graph.get_state({"configurable": config["configurable"]})
        thread["values"] = plain(snapshot.values)
        pending: dict[str, list[Any]] = {}
        for task in snapshot.tasks:
            if task.interrupts:
                pending[task.id] = plain(list(task.interrupts))
        thread["interrupts"] = pending
        if status != "error" and (snapshot.next or pending):
            thread["status"] = "interrupted"
    return thread


async def _with_events(
    graph: CompiledStateGraph,
    run_input: Any,
    config: dict[str, Any],
    options: dict[str, Any],
    push: Any,
) -> AsyncIterator[Any]:
    """Stream mode "events": langchain-core's event stream, each event sent as is; the
    graph's own chunks (its top-level ``on_chain_stream``) come out as ``astream``'s."""
    async for event in graph.astream_events(run_input, config, version="v2", **options):
        push("events", dumps(event))
        if event.get("event") == "on_chain_stream" and not event.get("parent_ids"):
            yield event["data"]["chunk"]


def _input(kwargs: Mapping[str, Any]) -> Any:
    command = kwargs.get("command")
    if command:
        goto = command.get("goto") or ()
        goto = [_send(g) for g in goto] if isinstance(goto, list) else _send(goto)
        return Command(update=command.get("update"), resume=command.get("resume"), goto=goto)
    return kwargs.get("input")


def _send(goto: Any) -> Any:
    """A ``goto`` item as the SDK sends it: a node name, or ``{"node", "input"}`` for a Send."""
    if isinstance(goto, dict) and "node" in goto:
        return Send(goto["node"], goto.get("input", goto.get("arg")))
    return goto


def _config(record: Mapping[str, Any], assistant: Mapping[str, Any]) -> dict[str, Any]:
    """The run's config: the assistant's, then the request's, then the run's own keys."""
    kwargs = record["kwargs"]
    base: dict[str, Any] = dict(assistant.get("config") or {})
    asked: dict[str, Any] = dict(kwargs.get("config") or {})
    config = {**base, **asked}
    configurable = {**(base.get("configurable") or {}), **(asked.get("configurable") or {})}
    configurable.update(
        thread_id=record["thread_id"],
        run_id=record["run_id"],
        assistant_id=record["assistant_id"],
        graph_id=assistant.get("graph_id"),
    )
    if kwargs.get("checkpoint_id"):
        configurable["checkpoint_id"] = kwargs["checkpoint_id"]
    config["configurable"] = configurable
    config["metadata"] = {**(config.get("metadata") or {}), **(record.get("metadata") or {})}
    return config


async def _has_checkpoint(graph: CompiledStateGraph, config: Mapping[str, Any]) -> bool:
    """Whether a run retried after its process died has a checkpoint to resume from."""
    snapshot = await graph.aget_state({"configurable": config["configurable"]})
    return (
        snapshot.metadata is not None
        and snapshot.metadata.get("run_id") == config["configurable"]["run_id"]
    )
