"""``PostgresSaver``: checkpoints in PostgreSQL, for production (``graphpool[postgres]``).

Uses psycopg 3, imported only when a ``PostgresSaver`` is made. The tables are
created on first use (``setup()`` does it explicitly). Writes of one thread are
serialized by a transaction-scoped advisory lock, so any number of processes
can share the database.

    saver = PostgresSaver.from_conn_string("postgresql://user@localhost/db")
    graph = builder.compile(checkpointer=saver)
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidConfigError
from ._sql import SqlSaver, schema

__all__ = ["PostgresSaver"]

_SCHEMA = schema(serial="BIGSERIAL", blob="BYTEA", double="DOUBLE PRECISION")


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            "PostgresSaver needs psycopg 3: pip install 'graphpool[postgres]'."
        ) from exc
    return psycopg


class PostgresSaver(SqlSaver):
    """Checkpoints in a PostgreSQL database.

    Args:
        conn: a connection string (``"postgresql://..."`` or ``"host=... dbname=..."``)
            or an open ``psycopg.Connection`` in autocommit mode (not closed by
            :meth:`close`).
        serde, lease_timeout: see :class:`~graphpool.checkpoint.BaseCheckpointSaver`.

    Raises:
        ImportError: psycopg is not installed (install the ``postgres`` extra).
        InvalidConfigError: the connection given is not in autocommit mode (a ``ValueError``).
    """

    def __init__(self, conn: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        psycopg = _psycopg()
        self._owned = isinstance(conn, str)
        self.conn = psycopg.connect(conn, autocommit=True) if isinstance(conn, str) else conn
        if not self.conn.autocommit:
            raise InvalidConfigError(
                "PostgresSaver needs a connection in autocommit mode: "
                "psycopg.connect(..., autocommit=True)."
            )
        self._ready = False
        self.setup()

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(cls, conninfo: str, **kwargs: Any) -> Iterator[PostgresSaver]:
        """``with PostgresSaver.from_conn_string(url) as saver:``; closed on exit."""
        saver = cls(conninfo, **kwargs)
        try:
            yield saver
        finally:
            saver.close()

    def __repr__(self) -> str:
        info = self.conn.info
        return f"<PostgresSaver {info.user}@{info.host}:{info.port}/{info.dbname}>"

    def setup(self) -> None:
        """Create the tables if they do not exist (done on construction)."""
        if self._ready:
            return
        with self._lock, self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (_lock_key(""),))
            for statement in _SCHEMA:
                self.conn.execute(statement)
        self._ready = True

    def close(self) -> None:
        """Close the connection if this saver opened it."""
        if self._owned:
            with self._lock:
                self.conn.close()

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)

    @contextlib.contextmanager
    def _transaction(self, thread_id: str) -> Iterator[None]:
        with self.conn.transaction():
            self.conn.execute("SELECT pg_advisory_xact_lock(%s::bigint)", (_lock_key(thread_id),))
            yield


def _lock_key(thread_id: str) -> int:
    """A stable signed 64-bit advisory lock key for a thread ("" for schema setup)."""
    digest = hashlib.blake2b(b"graphpool:" + thread_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
