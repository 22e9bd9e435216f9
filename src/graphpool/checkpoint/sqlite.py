"""``SqliteSaver``: checkpoints in a SQLite file; the embedded default for durable runs.

Standard library only (``sqlite3``). The file is put in WAL mode, so readers
never block the writer, and each write is its own ``BEGIN IMMEDIATE``
transaction, so several processes can share one file: SQLite serializes them
(each waits up to ``timeout`` seconds for the others). ``synchronous=NORMAL``:
a committed checkpoint survives the process being killed; only a power loss
may drop the last ones (pass ``synchronous="FULL"`` to fsync every commit).

    saver = SqliteSaver("runs.db")                      # or SqliteSaver(sqlite3.connect(...))
    graph = builder.compile(checkpointer=saver)
    graph.invoke(inputs, {"configurable": {"thread_id": "job-42"}})
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from .._sqlite import database_path, open_database
from ._sql import SqlSaver, schema

__all__ = ["SqliteSaver"]

_SCHEMA = schema(serial="INTEGER", blob="BLOB", double="REAL")


class SqliteSaver(SqlSaver):
    """Checkpoints in a SQLite database file (WAL mode), safe across threads and processes.

    Args:
        conn: a path (the file is created if needed; ``":memory:"`` works too) or
            an open ``sqlite3.Connection`` (opened with ``check_same_thread=False``
            if runs use it from several threads; it is not closed by :meth:`close`).
        timeout: seconds to wait for another process's write to finish.
        synchronous: SQLite's ``synchronous`` setting: ``"NORMAL"`` or ``"FULL"``.
        serde, lease_timeout: see :class:`~graphpool.checkpoint.BaseCheckpointSaver`.
    """

    def __init__(
        self,
        conn: sqlite3.Connection | str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        synchronous: str = "NORMAL",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn, self._owned = open_database(
            conn, owner="SqliteSaver", timeout=timeout, synchronous=synchronous
        )
        with self._lock, self._transaction(""):
            for statement in _SCHEMA:
                self.conn.execute(statement)

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(cls, path: str, **kwargs: Any) -> Iterator[SqliteSaver]:
        """``with SqliteSaver.from_conn_string("runs.db") as saver:``; closed on exit."""
        saver = cls(path, **kwargs)
        try:
            yield saver
        finally:
            saver.close()

    def __repr__(self) -> str:
        return f"<SqliteSaver {self.path!r}>"

    @property
    def path(self) -> str:
        """The database file ("" for an in-memory database)."""
        return database_path(self.conn)

    def close(self) -> None:
        """Close the connection if this saver opened it."""
        if self._owned:
            with self._lock:
                self.conn.close()

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(sql, params)

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        self.conn.execute(sql, params)
        if self.conn.in_transaction:  # a connection in sqlite3's legacy transaction mode
            self.conn.commit()

    @contextlib.contextmanager
    def _transaction(self, thread_id: str) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
