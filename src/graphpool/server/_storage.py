"""The server's records: assistants, threads and runs (the run queue), in SQLite or PostgreSQL.

:class:`Storage` holds every query, written once; a subclass brings the connection
and the :class:`~._dialect.Dialect` (``_sqlite.SqliteStorage``, one SQLite file;
``_postgres.PostgresStorage``, one database that several servers share).
Checkpoints and store items sit in the same database, through graphpool's own
saver and store. Every write here is one transaction committed before the call
returns: a run the API accepted is on disk (durable admission).
"""

from __future__ import annotations

import abc
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from ._dialect import Dialect, upsert
from ._json import dumps, loads, now
from ._rows import (
    assistant_row,
    filters,
    json_fields,
    run_row,
    thread_row,
    where_clause,
)

__all__ = ["SCHEMA", "Storage"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS gp_assistants (
        assistant_id TEXT PRIMARY KEY, graph_id TEXT NOT NULL, name TEXT NOT NULL,
        description TEXT, config TEXT NOT NULL, context TEXT NOT NULL,
        metadata TEXT NOT NULL, version INTEGER NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS gp_assistant_versions (
        assistant_id TEXT NOT NULL, version INTEGER NOT NULL, graph_id TEXT NOT NULL,
        name TEXT NOT NULL, description TEXT, config TEXT NOT NULL, context TEXT NOT NULL,
        metadata TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (assistant_id, version))""",
    """CREATE TABLE IF NOT EXISTS gp_threads (
        thread_id TEXT PRIMARY KEY, metadata TEXT NOT NULL, status TEXT NOT NULL,
        state_values TEXT, interrupts TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS gp_runs (
        seq {serial}, run_id TEXT UNIQUE NOT NULL,
        thread_id TEXT NOT NULL, assistant_id TEXT NOT NULL, status TEXT NOT NULL,
        metadata TEXT NOT NULL, kwargs TEXT NOT NULL, multitask_strategy TEXT NOT NULL,
        temporary INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL DEFAULT 0,
        available_at {real} NOT NULL DEFAULT 0, lease_owner TEXT, lease_until {real},
        result TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        cancel TEXT)""",
    """CREATE TABLE IF NOT EXISTS gp_run_events (
        run_id TEXT NOT NULL, idx INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (run_id, idx))""",
    "CREATE INDEX IF NOT EXISTS gp_runs_status ON gp_runs (status, seq)",
    "CREATE INDEX IF NOT EXISTS gp_runs_thread ON gp_runs (thread_id, seq)",
    # One run per thread at a time, kept by the database itself: two servers that
    # claim runs of one thread at the same instant cannot both win (_queue.claim).
    "CREATE UNIQUE INDEX IF NOT EXISTS gp_runs_one_running ON gp_runs (thread_id) "
    "WHERE status = 'running'",
)

ACTIVE = ("pending", "running")

_ASSISTANT_SORT = frozenset({"assistant_id", "graph_id", "name", "created_at", "updated_at"})
_THREAD_SORT = frozenset({"thread_id", "status", "created_at", "updated_at"})


class Storage(abc.ABC):
    """Assistants, threads and runs; rows come back as the API's JSON dicts.

    A subclass gives :attr:`dialect`, :meth:`transaction`, :meth:`rows` and
    :meth:`close`; every query is here, once, with ``?`` placeholders.
    """

    dialect: Dialect
    integrity_errors: tuple[type[Exception], ...]  # what a broken unique constraint raises

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction, committed when the block ends (rolled back on error); yields
        an object whose ``execute(sql, params)`` returns a DB-API cursor."""

    @abc.abstractmethod
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of one query, as dicts by column name."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def create_tables(self, statements: Sequence[str]) -> None:
        """Run ``CREATE ... IF NOT EXISTS`` statements (``{serial}``, ``{real}``: the
        dialect's types) in one transaction."""
        with self.transaction() as db:
            if self.dialect.setup_lock:
                db.execute(self.dialect.setup_lock)
            for statement in statements:
                db.execute(statement.format(serial=self.dialect.serial, real=self.dialect.real))

    def columns(self, table: str) -> list[str]:
        """The table's column names, in order ([] if there is no such table)."""
        return [next(iter(row.values())) for row in self.rows(self.dialect.columns_sql, (table,))]

    # -- assistants ------------------------------------------------------------

    def put_assistant(self, record: Mapping[str, Any], *, replace: bool = True) -> dict[str, Any]:
        stamp = now()
        row = {
            "assistant_id": record.get("assistant_id") or str(uuid.uuid4()),
            "graph_id": record["graph_id"],
            "name": record.get("name") or record["graph_id"],
            "description": record.get("description"),
            "config": dumps(record.get("config") or {}),
            "context": dumps(record.get("context") or {}),
            "metadata": dumps(record.get("metadata") or {}),
            "version": record.get("version", 1),
            "created_at": record.get("created_at") or stamp,
            "updated_at": stamp,
        }
        kept = {k: v for k, v in row.items() if k != "updated_at"}
        with self.transaction() as db:
            upsert(db, "gp_assistants", row, ("assistant_id",), replace=replace)
            kept["created_at"] = stamp  # when this version was made
            upsert(db, "gp_assistant_versions", kept, ("assistant_id", "version"), replace=False)
        found = self.get_assistant(row["assistant_id"])
        assert found is not None
        return found

    def get_assistant(self, assistant_id: str) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM gp_assistants WHERE assistant_id = ?", (assistant_id,))
        return assistant_row(rows[0]) if rows else None

    def delete_assistant(self, assistant_id: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM gp_assistants WHERE assistant_id = ?", (assistant_id,))
            db.execute("DELETE FROM gp_assistant_versions WHERE assistant_id = ?", (assistant_id,))
        return cursor.rowcount > 0

    def assistant_versions(
        self,
        assistant_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """The assistant's versions, newest first."""
        where, params = filters(self.dialect, metadata=metadata)
        where.append("assistant_id = ?")
        rows = self.rows(
            f"SELECT * FROM gp_assistant_versions {where_clause(where)} ORDER BY version DESC "
            "LIMIT ? OFFSET ?",
            (*params, assistant_id, limit, offset),
        )
        return [assistant_row(row) for row in rows]

    def latest_version(self, assistant_id: str) -> int:
        rows = self.rows(
            "SELECT MAX(version) AS v FROM gp_assistant_versions WHERE assistant_id = ?",
            (assistant_id,),
        )
        return int(rows[0]["v"] or 0)

    def search_assistants(
        self,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        where, params = filters(self.dialect, graph_id=graph_id, metadata=metadata)
        if name:
            where.append("name LIKE ?")
            params.append(f"%{name}%")
        order = sort_by if sort_by in _ASSISTANT_SORT else "created_at"
        direction = "ASC" if (sort_order or "").lower() == "asc" else "DESC"
        rows = self.rows(
            f"SELECT * FROM gp_assistants {where_clause(where)} ORDER BY {order} {direction}, "
            "assistant_id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [assistant_row(row) for row in rows]

    def count_assistants(
        self, *, graph_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> int:
        where, params = filters(self.dialect, graph_id=graph_id, metadata=metadata)
        return int(
            self.rows(f"SELECT COUNT(*) AS n FROM gp_assistants {where_clause(where)}", params)[0][
                "n"
            ]
        )

    # -- threads ---------------------------------------------------------------

    def create_thread(
        self, thread_id: str | None, metadata: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], bool]:
        """The new thread, and True; or the existing one with that id, and False."""
        thread_id = thread_id or str(uuid.uuid4())
        with self.transaction() as db:
            made = self.insert_thread(db, thread_id, metadata)
        found = self.get_thread(thread_id)
        assert found is not None
        return found, made

    def insert_thread(self, db: Any, thread_id: str, metadata: Mapping[str, Any] | None) -> bool:
        """Add an idle thread inside the caller's transaction, unless one with that id
        is there; whether it was added."""
        stamp = now()
        cursor = db.execute(
            "INSERT INTO gp_threads VALUES (?, ?, 'idle', NULL, '{}', ?, ?) ON CONFLICT DO NOTHING",
            (thread_id, dumps(dict(metadata or {})), stamp, stamp),
        )
        return bool(cursor.rowcount > 0)

    def get_thread(self, thread_id: str) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM gp_threads WHERE thread_id = ?", (thread_id,))
        return thread_row(rows[0]) if rows else None

    def update_thread(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        status: str | None = None,
        values: Any = ...,
        interrupts: Any = None,
    ) -> dict[str, Any] | None:
        """Merge ``metadata`` into the thread's; set the other fields given."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT metadata FROM gp_threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row is None:
                return None
            sets: list[str] = ["updated_at = ?"]
            params: list[Any] = [now()]
            if metadata:
                sets.append("metadata = ?")
                params.append(dumps({**loads(row[0], {}), **metadata}))
            if status is not None:
                sets.append("status = ?")
                params.append(status)
            if values is not ...:
                sets.append("state_values = ?")
                params.append(None if values is None else dumps(values))
            if interrupts is not None:
                sets.append("interrupts = ?")
                params.append(dumps(interrupts))
            db.execute(
                f"UPDATE gp_threads SET {', '.join(sets)} WHERE thread_id = ?",
                (*params, thread_id),
            )
        return self.get_thread(thread_id)

    def delete_thread(self, thread_id: str) -> bool:
        with self.transaction() as db:
            deleted = self.drop_thread(db, thread_id)
        return deleted

    def drop_thread(self, db: Any, thread_id: str) -> bool:
        """Delete the thread, its runs and their events inside the caller's transaction;
        whether the thread was there."""
        cursor = db.execute("DELETE FROM gp_threads WHERE thread_id = ?", (thread_id,))
        db.execute(
            "DELETE FROM gp_run_events WHERE run_id IN "
            "(SELECT run_id FROM gp_runs WHERE thread_id = ?)",
            (thread_id,),
        )
        db.execute("DELETE FROM gp_runs WHERE thread_id = ?", (thread_id,))
        return bool(cursor.rowcount > 0)

    def search_threads(
        self,
        *,
        ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        where, params = self._thread_filters(ids, metadata, values, status)
        order = sort_by if sort_by in _THREAD_SORT else "created_at"
        direction = "ASC" if (sort_order or "").lower() == "asc" else "DESC"
        rows = self.rows(
            f"SELECT * FROM gp_threads {where_clause(where)} ORDER BY {order} {direction}, "
            "thread_id "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [thread_row(row) for row in rows]

    def count_threads(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
    ) -> int:
        where, params = self._thread_filters(None, metadata, values, status)
        sql = f"SELECT COUNT(*) AS n FROM gp_threads {where_clause(where)}"
        return int(self.rows(sql, params)[0]["n"])

    def _thread_filters(
        self,
        ids: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        values: Mapping[str, Any] | None,
        status: str | None,
    ) -> tuple[list[str], list[Any]]:
        where, params = filters(self.dialect, metadata=metadata)
        json_fields(self.dialect, "state_values", values, where, params)
        if status:
            where.append("status = ?")
            params.append(status)
        if ids:
            where.append(f"thread_id IN ({', '.join('?' for _ in ids)})")
            params += list(ids)
        return where, params

    # -- runs ------------------------------------------------------------------

    def active_runs(self, thread_id: str) -> list[dict[str, Any]]:
        rows = self.rows(
            "SELECT * FROM gp_runs WHERE thread_id = ? AND status IN ('pending', 'running') "
            "ORDER BY seq",
            (thread_id,),
        )
        return [run_row(row) for row in rows]

    def insert_run(self, db: Any, run: Mapping[str, Any]) -> None:
        """Add a pending run inside the caller's transaction (see ``_queue``)."""
        stamp = now()
        db.execute(
            "INSERT INTO gp_runs (run_id, thread_id, assistant_id, status, metadata, kwargs, "
            "multitask_strategy, temporary, available_at, created_at, updated_at) "
            "VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
            (
                run["run_id"],
                run["thread_id"],
                run["assistant_id"],
                dumps(run.get("metadata") or {}),
                dumps(run["kwargs"]),
                run["multitask_strategy"],
                int(bool(run.get("temporary"))),
                run.get("available_at", 0.0),
                stamp,
                stamp,
            ),
        )
        db.execute(
            "UPDATE gp_threads SET status = 'busy', updated_at = ? WHERE thread_id = ?",
            (stamp, run["thread_id"]),
        )

    def get_run(self, run_id: str, thread_id: str | None = None) -> dict[str, Any] | None:
        rows = self.rows("SELECT * FROM gp_runs WHERE run_id = ?", (run_id,))
        if not rows or (thread_id is not None and rows[0]["thread_id"] != thread_id):
            return None
        return run_row(rows[0])

    def run_record(self, run_id: str) -> dict[str, Any] | None:
        """The run's row with its stored kwargs (what the worker needs)."""
        rows = self.rows("SELECT * FROM gp_runs WHERE run_id = ?", (run_id,))
        if not rows:
            return None
        return {
            **run_row(rows[0]),
            "kwargs": loads(rows[0]["kwargs"]),
            "attempt": rows[0]["attempt"],
        }

    def list_runs(
        self, thread_id: str, *, limit: int = 10, offset: int = 0, status: str | None = None
    ) -> list[dict[str, Any]]:
        where, params = ["thread_id = ?"], [thread_id]
        if status:
            where.append("status = ?")
            params.append(status)
        rows = self.rows(
            f"SELECT * FROM gp_runs {where_clause(where)} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [run_row(row) for row in rows]

    def delete_run(self, run_id: str) -> bool:
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM gp_runs WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM gp_run_events WHERE run_id = ?", (run_id,))
        return cursor.rowcount > 0

    def status_counts(self, table: str) -> dict[str, int]:
        """How many rows of ``gp_runs`` or ``gp_threads`` have each status."""
        assert table in ("gp_runs", "gp_threads")
        rows = self.rows(f"SELECT status, COUNT(*) AS n FROM {table} GROUP BY status")
        return {row["status"]: int(row["n"]) for row in rows}

    def append_events(self, run_id: str, start: int, events: list[tuple[str, str]]) -> None:
        """Keep a run's events (from index ``start``) for reconnects and other servers."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO gp_run_events (run_id, idx, event, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run_id, idx) DO UPDATE SET event = excluded.event, "
                "data = excluded.data",
                [(run_id, start + i, event, data) for i, (event, data) in enumerate(events)],
            )

    def drop_events(self, ended_before: str) -> int:
        """Forget the kept events of runs that ended before ``ended_before`` (ISO time)
        and were not ``stream_resumable`` (kept, on a shared database, for clients of
        other servers while the run went on); how many."""
        resumable, params = self.dialect.json_match("kwargs", "resumable", True)
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM gp_run_events WHERE run_id IN (SELECT run_id FROM gp_runs "
                "WHERE status IN ('success', 'error', 'interrupted', 'timeout') "
                f"AND updated_at < ? AND NOT COALESCE({resumable}, 1 = 0))",  # absent: not
                (ended_before, *params),
            )
        return int(cursor.rowcount)

    def thread_runs(self, thread_id: str) -> list[tuple[str, str, int]]:
        """The thread's runs as (run id, status, events kept), in admission order."""
        rows = self.rows(
            "SELECT r.run_id, r.status, (SELECT COUNT(*) FROM gp_run_events e "
            " WHERE e.run_id = r.run_id) AS n FROM gp_runs r WHERE r.thread_id = ? "
            "ORDER BY r.seq",
            (thread_id,),
        )
        return [(row["run_id"], row["status"], int(row["n"])) for row in rows]

    def run_events(self, run_id: str, start: int = 0) -> list[tuple[str, str]]:
        """The run's kept events from index ``start`` on."""
        rows = self.rows(
            "SELECT event, data FROM gp_run_events WHERE run_id = ? AND idx >= ? ORDER BY idx",
            (run_id, start),
        )
        return [(row["event"], row["data"]) for row in rows]

    def run_result(self, run_id: str) -> Any:
        rows = self.rows("SELECT result FROM gp_runs WHERE run_id = ?", (run_id,))
        return loads(rows[0]["result"]) if rows and rows[0]["result"] is not None else None
