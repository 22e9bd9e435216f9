"""The run queue: admitted runs wait here until a worker leases one.

::

    route ──admit()──> [pending] ──claim()──> [running, leased] ──finish()──> [success|error|
                          ^                        │ heartbeat()             interrupted|timeout]
                          └──── recover(): lease expired (its process died)

:class:`RunQueue` is what the worker and the routes see. :class:`SqlRunQueue` keeps
the queue in the ``gp_runs`` table of the server's :class:`~._storage.Storage`, with
the same SQL on SQLite (one process) and PostgreSQL (several processes, on one
machine or many): there ``claim`` is ``SELECT ... FOR UPDATE SKIP LOCKED``, so two
servers never take one run, and ``_postgres.PostgresRunQueue`` adds ``LISTEN`` /
``NOTIFY`` so that an idle server wakes when another admits a run. ``heartbeat``
extends ``lease_until``; ``recover`` puts back the runs of a holder that died.

One run per thread at a time: ``claim`` skips a pending run whose thread has a run
running, and a unique index on the running runs' thread ids turns a race between
two servers into a failed claim (tried again); the checkpointer's thread lease
guards the same thing underneath.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ..checkpoint._lease import Lease, holder_alive
from ._json import dumps, now
from ._storage import Storage

__all__ = ["Admission", "RunQueue", "SqlRunQueue", "owner_id"]


def owner_id() -> str:
    """This process as a lease owner: host, pid and start time, so that a restarted
    server on the same host takes back its dead predecessor's runs at once."""
    lease = Lease.mine()
    return json.dumps([lease.owner, lease.pid, lease.host, lease.started])


def _owner_alive(owner: str | None, lease_until: float, lease_seconds: float) -> bool:
    try:
        key, pid, host, started = json.loads(owner or "")
    except (ValueError, TypeError):
        return lease_until > time.time()
    holder = Lease(key, pid, host, started)
    return holder_alive(holder, lease_until - lease_seconds, lease_seconds)


FINAL = frozenset({"success", "error", "interrupted", "timeout"})


class Admission:
    """What admitting a run did: ``admitted`` False if ``reject`` met a busy thread;
    ``interrupt``: the thread's earlier runs the new one displaces."""

    def __init__(self, admitted: bool, interrupt: list[str], full: bool = False) -> None:
        self.admitted = admitted
        self.interrupt = interrupt
        self.full = full  # refused: the queue holds ``max_pending`` runs already


class RunQueue(abc.ABC):
    """Durable queue of runs; see the module docstring for the states."""

    def __init__(self, max_pending: int = 10_000, per_assistant: int | None = None) -> None:
        self.max_pending = max_pending
        self.per_assistant = per_assistant  # most runs of one assistant running at once
        self._wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the waiting worker's
        self._cancel_announced = False
        self._held = threading.local()  # see held_wakeups

    @abc.abstractmethod
    def admit(
        self, run: Mapping[str, Any], new_thread: Mapping[str, Any] | None = None
    ) -> Admission:
        """Commit ``run`` as pending (the thread's other active runs decide, by the
        run's ``multitask_strategy``, whether it is admitted) before returning.
        ``new_thread``: the metadata of the run's thread, made in that transaction
        (a stateless run's; a run refused leaves none behind)."""

    @abc.abstractmethod
    def claim(self, owner: str, lease_seconds: float) -> str | None:
        """Lease the oldest pending run whose thread is free; its id, or None."""

    @abc.abstractmethod
    def heartbeat(self, owner: str, run_ids: list[str], lease_seconds: float) -> set[str]:
        """Extend the leases ``owner`` holds on ``run_ids``; those it still holds (a
        server cut off from the database past its lease may have lost some)."""

    @abc.abstractmethod
    def recover(self, lease_seconds: float) -> int:
        """Put running runs whose holder died (lease expired, or its pid is gone on
        this host) back to pending; how many."""

    @abc.abstractmethod
    def finish(
        self,
        run_id: str,
        status: str,
        result: Any,
        thread: Mapping[str, Any] | None,
        owner: str | None = None,
    ) -> bool:
        """Record the run's final ``status`` and ``result`` and the thread's new
        ``status``/``values``/``interrupts``, in one transaction; with ``owner``, only
        if that server still holds the run. ``thread`` None: the thread goes instead
        (a stateless run's), with its runs and their events, in that transaction.
        Whether the run was recorded (False: another server holds it now)."""

    @abc.abstractmethod
    def cancel_pending(self, run_id: str) -> bool:
        """Mark a run that no worker took yet as interrupted; whether it was pending."""

    def ask_cancel(self, run_id: str, action: str) -> bool:
        """Ask the server running ``run_id`` to stop it (``action``: "interrupt" or
        "rollback"); whether it was running. That server sees it in :meth:`cancels`."""
        return False

    def cancels(self, owner: str, run_ids: list[str]) -> list[tuple[str, str]]:
        """The runs among ``run_ids`` held by ``owner`` that were asked to stop, with
        the action asked (and those deleted meanwhile, with "interrupt")."""
        return []

    def cancels_announced(self) -> bool:
        """Whether another server announced a cancel since the last call (then the
        worker reads :meth:`cancels` at once instead of at its next heartbeat)."""
        announced, self._cancel_announced = self._cancel_announced, False
        return announced

    # -- waking idle workers (LISTEN/NOTIFY on PostgreSQL) --------------------

    @contextlib.contextmanager
    def held_wakeups(self) -> Iterator[list[bool]]:
        """In the block, :meth:`notify` calls on this thread are only noted (in the
        list yielded): the caller wakes the worker itself, if it still must."""
        held: list[bool] = []
        self._held.list = held
        try:
            yield held
        finally:
            self._held.list = None

    def notify(self) -> None:
        """Wake the worker loop: a run was admitted or a thread became free. Safe
        from any thread (the server admits and finishes runs on its database thread)."""
        held = getattr(self._held, "list", None)
        if held is not None:
            held.append(True)
            return
        wakeup, loop = self._wakeup, self._loop
        if wakeup is None or loop is None:
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            wakeup.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(wakeup.set)

    async def aclose(self) -> None:
        """Stop what :meth:`wait` started (a listening connection)."""
        self._wakeup = self._loop = None

    async def wait(self, timeout: float) -> None:
        """Sleep until :meth:`notify` or ``timeout`` seconds."""
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        # not asyncio.wait_for: on Python 3.11 it can swallow a cancel that comes
        # as the event is set (here from another thread), and the worker would not stop
        waiter = asyncio.ensure_future(self._wakeup.wait())
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            waiter.cancel()
        self._wakeup.clear()


class SqlRunQueue(RunQueue):
    """The queue as the ``gp_runs`` table of :class:`~._storage.Storage` (either dialect)."""

    def __init__(
        self, storage: Storage, max_pending: int = 10_000, per_assistant: int | None = None
    ) -> None:
        super().__init__(max_pending, per_assistant)
        self.storage = storage

    def _announce(self, db: Any, what: str = "") -> None:
        """Inside a transaction that made a run claimable (or, ``what="cancel"``, asked
        for one to stop): tell the other servers (sent at commit; PostgreSQL's
        ``NOTIFY``). This process is woken by :meth:`notify`."""

    def ask_cancel(self, run_id: str, action: str) -> bool:
        with self.storage.transaction() as db:
            cursor = db.execute(
                "UPDATE gp_runs SET cancel = ? WHERE run_id = ? AND status = 'running'",
                (action, run_id),
            )
            if cursor.rowcount:
                self._announce(db, "cancel")
        return bool(cursor.rowcount)

    def cancels(self, owner: str, run_ids: list[str]) -> list[tuple[str, str]]:
        if not run_ids:
            return []
        marks = ", ".join("?" for _ in run_ids)
        rows = self.storage.rows(
            f"SELECT run_id, cancel, status, lease_owner FROM gp_runs WHERE run_id IN ({marks})",
            run_ids,
        )
        found = {row["run_id"]: row for row in rows}
        asked = []
        for run_id in run_ids:
            row = found.get(run_id)
            if row is None:  # deleted (its thread was) through another server: stop it
                asked.append((run_id, "interrupt"))
            elif row["cancel"] and row["status"] == "running" and row["lease_owner"] == owner:
                asked.append((run_id, row["cancel"]))
        return asked

    def admit(
        self, run: Mapping[str, Any], new_thread: Mapping[str, Any] | None = None
    ) -> Admission:
        lock = self.storage.dialect.lock
        with self.storage.transaction() as db:
            # PostgreSQL: admissions to one thread take turns (reject sees every run)
            db.execute(f"SELECT 1 FROM gp_threads WHERE thread_id = ?{lock}", (run["thread_id"],))
            (pending,) = db.execute(
                "SELECT COUNT(*) FROM gp_runs WHERE status = 'pending'"
            ).fetchone()
            if pending >= self.max_pending:
                return Admission(False, [], full=True)
            active = [
                row[0]
                for row in db.execute(
                    "SELECT run_id FROM gp_runs WHERE thread_id = ? "
                    "AND status IN ('pending', 'running') ORDER BY seq",
                    (run["thread_id"],),
                )
            ]
            strategy = run["multitask_strategy"]
            if active and strategy == "reject":
                return Admission(False, [])
            if new_thread is not None:
                self.storage.insert_thread(db, run["thread_id"], new_thread)
            self.storage.insert_run(db, run)
            self._announce(db)
        self.notify()
        return Admission(True, active if strategy in ("interrupt", "rollback") else [])

    def claim(self, owner: str, lease_seconds: float) -> str | None:
        clock = time.time()
        # the oldest pending run whose thread is free (and whose assistant is under
        # its limit): one run per thread, and no thread's backlog holds up the others.
        # "Oldest of its thread" is said outright: with SKIP LOCKED, a server that
        # skips the run another server is claiming must not take that thread's next
        # run instead (test_postgres.py checks each thread's order).
        limit = (
            " AND (SELECT COUNT(*) FROM gp_runs a WHERE a.assistant_id = r.assistant_id"
            "  AND a.status = 'running') < ?"
            if self.per_assistant
            else ""
        )
        extra = (self.per_assistant,) if self.per_assistant else ()
        try:
            with self.storage.transaction() as db:
                row = db.execute(
                    "UPDATE gp_runs SET status = 'running', lease_owner = ?, lease_until = ?, "
                    "attempt = attempt + 1, updated_at = ? WHERE run_id = ("
                    " SELECT r.run_id FROM gp_runs r WHERE r.status = 'pending'"
                    " AND r.available_at <= ? AND NOT EXISTS (SELECT 1 FROM gp_runs o"
                    "  WHERE o.thread_id = r.thread_id AND (o.status = 'running'"
                    "   OR (o.status = 'pending' AND o.seq < r.seq AND o.available_at <= ?)))"
                    f"{limit} ORDER BY r.seq LIMIT 1{self.storage.dialect.skip_locked})"
                    " RETURNING run_id",
                    (owner, clock + lease_seconds, now(), clock, clock, *extra),
                ).fetchone()
        except self.storage.integrity_errors:
            # another server took a run of the same thread at the same moment
            # (gp_runs_one_running); the next claim picks another run
            self.notify()
            return None
        return None if row is None else str(row[0])

    def heartbeat(self, owner: str, run_ids: list[str], lease_seconds: float) -> set[str]:
        if not run_ids:
            return set()
        marks = ", ".join("?" for _ in run_ids)
        with self.storage.transaction() as db:
            rows = db.execute(
                f"UPDATE gp_runs SET lease_until = ? WHERE lease_owner = ? "
                f"AND status = 'running' AND run_id IN ({marks}) RETURNING run_id",
                (time.time() + lease_seconds, owner, *run_ids),
            ).fetchall()
        return {str(row[0]) for row in rows}

    def recover(self, lease_seconds: float) -> int:
        with self.storage.transaction() as db:
            rows = db.execute(
                "SELECT run_id, lease_owner, lease_until FROM gp_runs WHERE status = 'running'"
            ).fetchall()
            dead = [r for r in rows if not _owner_alive(r[1], r[2] or 0.0, lease_seconds)]
            for run_id, holder, _ in dead:
                # only if the dead holder still has it: another server may have put it
                # back and a third taken it since this one looked
                db.execute(
                    "UPDATE gp_runs SET status = 'pending', lease_owner = NULL "
                    "WHERE run_id = ? AND status = 'running' AND lease_owner = ?",
                    (run_id, holder),
                )
            if dead:
                self._announce(db)
        if dead:
            self.notify()
        return len(dead)

    def finish(
        self,
        run_id: str,
        status: str,
        result: Any,
        thread: Mapping[str, Any] | None,
        owner: str | None = None,
    ) -> bool:
        stamp = now()
        held = "" if owner is None else " AND status = 'running' AND lease_owner = ?"
        with self.storage.transaction() as db:
            row = db.execute(
                "UPDATE gp_runs SET status = ?, result = ?, lease_owner = NULL, updated_at = ? "
                f"WHERE run_id = ?{held} RETURNING thread_id",
                (status, dumps(result), stamp, run_id, *(() if owner is None else (owner,))),
            ).fetchone()
            if row is not None and thread is None:
                self.storage.drop_thread(db, row[0])
            elif row is not None and thread is not None:
                busy = db.execute(
                    "SELECT 1 FROM gp_runs WHERE thread_id = ? AND status IN "
                    "('pending', 'running') LIMIT 1",
                    (row[0],),
                ).fetchone()
                db.execute(
                    "UPDATE gp_threads SET status = ?, state_values = ?, interrupts = ?, "
                    "updated_at = ? WHERE thread_id = ?",
                    (
                        "busy" if busy else thread["status"],
                        dumps(thread["values"]),
                        dumps(thread["interrupts"]),
                        stamp,
                        row[0],
                    ),
                )
                if busy:
                    self._announce(db)
            # the worker loop is woken only if a run waits (a free slot, or thread, may
            # let it go now); a run admitted with room here is claimed as it is admitted
            waiting = db.execute(
                "SELECT 1 FROM gp_runs WHERE status = 'pending' LIMIT 1"
            ).fetchone()
        if waiting is not None:
            self.notify()
        return row is not None

    def cancel_pending(self, run_id: str) -> bool:
        with self.storage.transaction() as db:
            row = db.execute(
                "UPDATE gp_runs SET status = 'interrupted', updated_at = ? "
                "WHERE run_id = ? AND status = 'pending' RETURNING thread_id",
                (now(), run_id),
            ).fetchone()
            if row is not None:
                db.execute(
                    "UPDATE gp_threads SET status = 'idle' WHERE thread_id = ? AND NOT EXISTS "
                    "(SELECT 1 FROM gp_runs WHERE thread_id = ? AND status IN "
                    "('pending', 'running'))",
                    (row[0], row[0]),
                )
        return row is not None
