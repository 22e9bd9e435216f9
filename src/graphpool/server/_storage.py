"""The server's records in one SQLite file: assistants, threads and runs (the run queue).

Checkpoints and store items share the file through graphpool's own saver and store
(their own connections). Every write here is one transaction committed before the
call returns: a run the API accepted is on disk (durable admission).

One connection, used by the event loop's thread and the worker's tasks under a lock;
each statement is short, so the loop never waits long.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .._sqlite import open_database
from ._json import dumps, loads, now
from ._rows import (
    assistant_row,
    filters,
    insert,
    json_path,
    run_row,
    thread_row,
    where_clause,
)

__all__ = ["Storage"]

_SCHEMA = (
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
        seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT UNIQUE NOT NULL,
        thread_id TEXT NOT NULL, assistant_id TEXT NOT NULL, status TEXT NOT NULL,
        metadata TEXT NOT NULL, kwargs TEXT NOT NULL, multitask_strategy TEXT NOT NULL,
        temporary INTEGER NOT NULL DEFAULT 0, attempt INTEGER NOT NULL DEFAULT 0,
        available_at REAL NOT NULL DEFAULT 0, lease_owner TEXT, lease_until REAL,
        result TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS gp_run_events (
        run_id TEXT NOT NULL, idx INTEGER NOT NULL, event TEXT NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (run_id, idx))""",
    "CREATE INDEX IF NOT EXISTS gp_runs_status ON gp_runs (status, seq)",
    "CREATE INDEX IF NOT EXISTS gp_runs_thread ON gp_runs (thread_id, seq)",
)

ACTIVE = ("pending", "running")

_ASSISTANT_SORT = frozenset({"assistant_id", "graph_id", "name", "created_at", "updated_at"})
_THREAD_SORT = frozenset({"thread_id", "status", "created_at", "updated_at"})


class Storage:
    """Assistants, threads and runs in SQLite; rows come back as the API's JSON dicts."""

    def __init__(self, path: str) -> None:
        self.conn, _ = open_database(path, owner="graphpool serve", timeout=30.0)
        self.lock = threading.RLock()
        with self.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` under the lock (rolled back on error)."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            cursor = self.conn.execute(sql, tuple(params))
            names = [c[0] for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

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
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        kept = {k: v for k, v in row.items() if k != "updated_at"}
        with self.transaction() as db:
            insert(db, verb, "gp_assistants", row)
            kept["created_at"] = stamp  # when this version was made
            insert(db, "INSERT OR IGNORE", "gp_assistant_versions", kept)
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
        where, params = filters(metadata=metadata)
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
        where, params = filters(graph_id=graph_id, metadata=metadata)
        if name:
            where.append("name LIKE ?")
            params.append(f"%{name}%")
        order = sort_by if sort_by in _ASSISTANT_SORT else "created_at"
        direction = "ASC" if (sort_order or "").lower() == "asc" else "DESC"
        rows = self.rows(
            f"SELECT * FROM gp_assistants {where_clause(where)} ORDER BY {order} {direction}, "
            "rowid LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [assistant_row(row) for row in rows]

    def count_assistants(
        self, *, graph_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> int:
        where, params = filters(graph_id=graph_id, metadata=metadata)
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
        stamp = now()
        thread_id = thread_id or str(uuid.uuid4())
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO gp_threads VALUES (?, ?, 'idle', NULL, '{}', ?, ?)",
                (thread_id, dumps(dict(metadata or {})), stamp, stamp),
            )
        found = self.get_thread(thread_id)
        assert found is not None
        return found, cursor.rowcount > 0

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
            cursor = db.execute("DELETE FROM gp_threads WHERE thread_id = ?", (thread_id,))
            db.execute(
                "DELETE FROM gp_run_events WHERE run_id IN "
                "(SELECT run_id FROM gp_runs WHERE thread_id = ?)",
                (thread_id,),
            )
            db.execute("DELETE FROM gp_runs WHERE thread_id = ?", (thread_id,))
        return cursor.rowcount > 0

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
            f"SELECT * FROM gp_threads {where_clause(where)} ORDER BY {order} {direction}, rowid "
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

    @staticmethod
    def _thread_filters(
        ids: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
        values: Mapping[str, Any] | None,
        status: str | None,
    ) -> tuple[list[str], list[Any]]:
        where, params = filters(metadata=metadata)
        for key, value in (values or {}).items():
            where.append("json_extract(state_values, ?) = json_extract(?, '$')")
            params += [json_path(key), dumps(value)]
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

    def insert_run(self, db: sqlite3.Connection, run: Mapping[str, Any]) -> None:
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

    def append_event(self, run_id: str, index: int, event: str, data: str) -> None:
        """Keep a resumable run's event (``stream_resumable``) for reconnects."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO gp_run_events VALUES (?, ?, ?, ?)",
                (run_id, index, event, data),
            )

    def run_events(self, run_id: str) -> list[tuple[str, str]]:
        rows = self.rows(
            "SELECT event, data FROM gp_run_events WHERE run_id = ? ORDER BY idx", (run_id,)
        )
        return [(row["event"], row["data"]) for row in rows]

    def run_result(self, run_id: str) -> Any:
        rows = self.rows("SELECT result FROM gp_runs WHERE run_id = ?", (run_id,))
        return loads(rows[0]["result"]) if rows and rows[0]["result"] is not None else None
