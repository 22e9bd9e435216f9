"""What the SQL savers share: three tables and the statements on them.

``graphpool_checkpoints`` holds one row per checkpoint (``seq`` orders a thread's
history), ``graphpool_results`` one row per finished task of a step, keyed by
the checkpoint the step started from, and ``graphpool_leases`` one row per
thread a run is using. Statements are written with ``?`` placeholders; a
dialect turns them into its own. A checkpoint or a result is one ``INSERT``
(atomic by itself); the lease's read-then-write runs in a transaction that
serializes it with other writers (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a
transaction-scoped advisory lock on the thread).
"""

from __future__ import annotations

import abc
import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from ._lease import Lease, holder_alive
from .base import NS_KEY_SEP, BaseCheckpointSaver

__all__ = ["SqlSaver", "schema"]


def schema(serial: str, blob: str, double: str) -> tuple[str, ...]:
    """The tables' DDL in a dialect: ``serial``, the type of an auto-incremented
    integer key; ``blob``, the binary type; ``double``, an 8-byte float (a Unix
    time needs it: PostgreSQL's ``REAL`` is 4 bytes, off by a minute at today's
    times)."""
    return (
        f"""CREATE TABLE IF NOT EXISTS graphpool_checkpoints (
            seq {serial} PRIMARY KEY,
            thread_id TEXT NOT NULL,
            checkpoint_id TEXT NOT NULL,
            parent_id TEXT,
            step INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            checkpoint {blob} NOT NULL,
            metadata {blob} NOT NULL,
            UNIQUE (thread_id, checkpoint_id))""",
        """CREATE INDEX IF NOT EXISTS graphpool_checkpoints_thread
            ON graphpool_checkpoints (thread_id, seq)""",
        f"""CREATE TABLE IF NOT EXISTS graphpool_results (
            thread_id TEXT NOT NULL,
            checkpoint_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            result {blob} NOT NULL,
            PRIMARY KEY (thread_id, checkpoint_id, task_id))""",
        f"""CREATE TABLE IF NOT EXISTS graphpool_leases (
            thread_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            started TEXT NOT NULL,
            refreshed_at {double} NOT NULL)""",
    )


Row = tuple[str, str | None, str, bytes, bytes, list[bytes]]


class SqlSaver(BaseCheckpointSaver):
    """A saver over one DB-API connection, shared by threads under a lock."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.RLock()

    # -- the dialect -------------------------------------------------------------------

    @abc.abstractmethod
    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Run one statement (``?`` placeholders); returns a cursor."""

    @abc.abstractmethod
    def _transaction(self, thread_id: str) -> contextlib.AbstractContextManager[None]:
        """A write transaction that no other writer of ``thread_id`` overlaps."""

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """One statement that changes data, committed when it returns."""
        self._execute(sql, params)

    # -- storage primitives ------------------------------------------------------------

    def _put_checkpoint(
        self,
        thread_id: str,
        checkpoint_id: str,
        parent_id: str | None,
        step: int,
        created_at: str,
        checkpoint: bytes,
        metadata: bytes,
    ) -> None:
        with self._lock:
            self._write(
                "INSERT INTO graphpool_checkpoints (thread_id, checkpoint_id, parent_id, step, "
                "created_at, checkpoint, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (thread_id, checkpoint_id, parent_id, step, created_at, checkpoint, metadata),
            )

    def _put_result(self, thread_id: str, checkpoint_id: str, task_id: str, data: bytes) -> None:
        with self._lock:
            self._write(
                "INSERT INTO graphpool_results (thread_id, checkpoint_id, task_id, result) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (thread_id, checkpoint_id, task_id) "
                "DO UPDATE SET result = excluded.result",
                (thread_id, checkpoint_id, task_id, data),
            )

    def _rows(
        self, thread_id: str, checkpoint_id: str | None, before: str | None, limit: int | None
    ) -> Iterator[Row]:
        sql = (
            "SELECT checkpoint_id, parent_id, created_at, checkpoint, metadata "
            "FROM graphpool_checkpoints WHERE thread_id = ?"
        )
        params: list[Any] = [thread_id]
        if checkpoint_id is not None:
            sql += " AND checkpoint_id = ?"
            params.append(checkpoint_id)
        if before is not None:
            sql += (
                " AND seq < (SELECT seq FROM graphpool_checkpoints "
                "WHERE thread_id = ? AND checkpoint_id = ?)"
            )
            params += [thread_id, before]
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._execute(sql, tuple(params)).fetchall()
            out = []
            for cid, parent, created, data, meta in rows:
                results = self._execute(
                    "SELECT result FROM graphpool_results WHERE thread_id = ? AND "
                    "checkpoint_id = ? ORDER BY task_id",
                    (thread_id, cid),
                ).fetchall()
                out.append(
                    (cid, parent, created, bytes(data), bytes(meta), [bytes(r[0]) for r in results])
                )
        yield from out

    def _lease(self, thread_id: str, lease: Lease, take: bool) -> tuple[Lease, float] | None:
        with self._lock, self._transaction(thread_id):
            row = self._execute(
                "SELECT owner, pid, host, started, refreshed_at FROM graphpool_leases "
                "WHERE thread_id = ?",
                (thread_id,),
            ).fetchone()
            if row is None and not take:
                return None
            if row is not None and row[0] != lease.owner:
                if not take:
                    return None  # no longer ours: leave it to its new holder
                holder = Lease(row[0], int(row[1]), row[2], row[3])
                if holder_alive(holder, float(row[4]), self.lease_timeout):
                    return holder, float(row[4])
            self._execute(
                "INSERT INTO graphpool_leases (thread_id, owner, pid, host, started, refreshed_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET "
                "owner = excluded.owner, pid = excluded.pid, host = excluded.host, "
                "started = excluded.started, refreshed_at = excluded.refreshed_at",
                (thread_id, lease.owner, lease.pid, lease.host, lease.started, time.time()),
            )
        return None

    def _unlease(self, thread_id: str, lease: Lease) -> None:
        with self._lock:
            self._write(
                "DELETE FROM graphpool_leases WHERE thread_id = ? AND owner = ?",
                (thread_id, lease.owner),
            )

    def delete_thread(self, thread_id: str) -> None:
        keys = [thread_id, *self._namespaces(thread_id)]  # with its subgraphs' namespaces
        with self._lock, self._transaction(thread_id):
            for table in ("graphpool_checkpoints", "graphpool_results", "graphpool_leases"):
                for key in keys:
                    self._execute(f"DELETE FROM {table} WHERE thread_id = ?", (key,))

    def _namespaces(self, thread_id: str) -> list[str]:
        prefix = thread_id + NS_KEY_SEP
        with self._lock:
            rows = self._execute(
                "SELECT DISTINCT thread_id FROM graphpool_checkpoints "
                "WHERE substr(thread_id, 1, CAST(? AS INTEGER)) = ?",
                (len(prefix), prefix),
            ).fetchall()
        return sorted(row[0] for row in rows)
