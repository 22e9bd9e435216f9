"""The server on one SQLite file (the default ``--database``): :class:`SqliteStorage`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from .._sqlite import open_database
from ..checkpoint.sqlite import SqliteSaver
from ._dialect import SQLITE
from ._storage import SCHEMA, Storage

__all__ = ["LoopSqliteSaver", "SqliteStorage"]

_T = TypeVar("_T")


class SqliteStorage(Storage):
    """The records in one SQLite file: one connection, used by the event loop's thread
    and the worker's tasks under a lock; each statement is short, so the loop never
    waits long."""

    dialect = SQLITE
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: str) -> None:
        self.conn, _ = open_database(path, owner="graphpool serve", timeout=30.0)
        self.lock = threading.RLock()
        self.create_tables(SCHEMA)
        if "cancel" not in self.columns("gp_runs"):  # a file from before it was added
            with self.transaction() as db:
                db.execute("ALTER TABLE gp_runs ADD COLUMN cancel TEXT")

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


class LoopSqliteSaver(SqliteSaver):
    """The saver of the server's runs on SQLite: a run's reads and writes of its
    checkpoints, from the event loop, are made right there instead of in a worker
    thread. Each is one short statement or transaction on the server's connection
    (a local file, WAL, no sync on commit), where a hop to a thread and back costs
    two rounds of the event loop: tens of milliseconds on a busy server, twice
    before a run's first ``values`` event (bench_server.py). At worst the loop waits
    for the one call the database thread is making (they share one lock)."""

    _ON_LOOP = frozenset({"get_tuple", "put", "put_result", "put_writes"})  # the short ones

    async def _blocking(self, fn: Callable[..., _T], *args: Any) -> _T:
        if getattr(fn, "__name__", None) in self._ON_LOOP:
            return fn(*args)
        return await super()._blocking(fn, *args)  # a history or a thread's deletion
