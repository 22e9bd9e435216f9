"""``SqliteStore``: the store in a SQLite file; the embedded default on disk.

Standard library only (``sqlite3``, with its JSON functions). The file is put in
WAL mode, so readers never block the writer; each batch's writes are one
``BEGIN IMMEDIATE`` transaction, so several processes can share the file. One
connection is shared by threads under a lock. Vector search loads the vectors
under the searched prefix and ranks them in Python: fine for thousands of
items, not for millions (use PostgreSQL, or a vector database, for those).

    from graphpool.store.sqlite import SqliteStore

    with SqliteStore.from_conn_string("memory.db") as store:
        store.put(("users", "u1"), "prefs", {"theme": "dark"})
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .._sqlite import database_path, open_database
from ._sql import SqlStore, schema
from .base import IndexConfig, TTLConfig

__all__ = ["SqliteStore"]

_SCHEMA = schema(serial="INTEGER", blob="BLOB", double="REAL", collate="")
_PLAIN_FIELD = re.compile(r'[^"\\]+')


class _Run:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


class SqliteStore(SqlStore):
    """A store in a SQLite database file (WAL mode), safe across threads and processes.

    Args:
        conn: a path (the file is created if needed; ``":memory:"`` works too) or an
            open ``sqlite3.Connection`` (made with ``check_same_thread=False`` if
            several threads use the store, and ``isolation_level=None``; it is not
            closed by :meth:`close`).
        index: an :class:`~graphpool.store.base.IndexConfig` to enable vector search.
        ttl: a :class:`~graphpool.store.base.TTLConfig`.
        timeout: seconds to wait for another process's write to finish.
        synchronous: SQLite's ``synchronous`` setting, ``"NORMAL"`` or ``"FULL"``.

    Raises:
        InvalidConfigError: a bad option (the message names it).
    """

    def __init__(
        self,
        conn: sqlite3.Connection | str | os.PathLike[str],
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        timeout: float = 30.0,
        synchronous: str = "NORMAL",
    ) -> None:
        super().__init__(index=index, ttl=ttl)
        self._lock = threading.RLock()
        self.conn, self._owned = open_database(
            conn, owner="SqliteStore", timeout=timeout, synchronous=synchronous
        )
        self.setup()

    def setup(self) -> None:
        """Create the tables if they do not exist (done when the store is made)."""
        with self._transaction(write=True) as run:
            for statement in _SCHEMA:
                run.one(statement)

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path!r}>"

    @property
    def path(self) -> str:
        """The database file ("" for an in-memory database)."""
        return database_path(self.conn)

    def close(self) -> None:
        """Stop the TTL sweeper; close the connection if this store opened it."""
        super().close()
        if self._owned:
            with self._lock:
                self.conn.close()

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[_Run]:
        with self._lock:
            legacy = self.conn.in_transaction  # a connection in sqlite3's implicit mode
            if not legacy:
                self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _Run(self.conn)
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.commit()

    def _equals(self, field: str) -> tuple[str, list[Any]] | None:
        if not _PLAIN_FIELD.fullmatch(field):
            return None
        return (
            "(json_extract(value, ?) = ? OR json_extract(value, '$.\"$t\"') IS NOT NULL)",
            [f'$."{field}"'],
        )
