"""``PostgresStore``: the store in PostgreSQL, for production (``graphpool[postgres]``).

Uses psycopg 3, imported only when a ``PostgresStore`` is made. Given a
connection string it opens a ``psycopg_pool.ConnectionPool`` when psycopg_pool
is installed (threads then run batches in parallel), else one connection shared
under a lock. The tables are created when the store is made (``setup()`` does it
explicitly), under an advisory lock so that processes starting together do not
race. Vector search ranks in Python, as in the SQLite store.

    from graphpool.store.postgres import PostgresStore

    with PostgresStore.from_conn_string("postgresql://user@localhost/db") as store:
        store.put(("users", "u1"), "prefs", {"theme": "dark"})
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from .._checks import check_positive_int
from ..errors import InvalidConfigError
from ._sql import SqlStore, schema
from .base import IndexConfig, TTLConfig

__all__ = ["PostgresStore"]

_SCHEMA = schema(serial="BIGSERIAL", blob="BYTEA", double="DOUBLE PRECISION", collate='COLLATE "C"')
_SETUP_LOCK = int.from_bytes(
    hashlib.blake2b(b"graphpool:store", digest_size=8).digest(), "big", signed=True
)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError(
            "PostgresStore needs psycopg 3: pip install 'graphpool[postgres]'."
        ) from exc
    return psycopg


def _pool_class() -> Any:
    try:
        from psycopg_pool import ConnectionPool
    except ImportError:
        return None
    return ConnectionPool


class _Run:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), tuple(params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)


class PostgresStore(SqlStore):
    """A store in a PostgreSQL database, shared by any number of threads and processes.

    Args:
        conn: a connection string (``"postgresql://..."``), an open
            ``psycopg.Connection`` in autocommit mode, or a
            ``psycopg_pool.ConnectionPool`` (neither is closed by :meth:`close`).
        index: an :class:`~graphpool.store.base.IndexConfig` to enable vector search.
        ttl: a :class:`~graphpool.store.base.TTLConfig`.
        pool: for a connection string, whether to open a connection pool; by
            default, when psycopg_pool is installed.
        max_connections: the size of that pool.

    Raises:
        ImportError: psycopg (or, with ``pool=True``, psycopg_pool) is not
            installed: install the ``postgres`` extra.
        InvalidConfigError: a connection not in autocommit mode, or a bad option.
    """

    def __init__(
        self,
        conn: Any,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        pool: bool | None = None,
        max_connections: int = 4,
    ) -> None:
        super().__init__(index=index, ttl=ttl)
        psycopg = _psycopg()
        check_positive_int(max_connections, "PostgresStore: max_connections", InvalidConfigError)
        self._lock = threading.RLock()
        self._owned = isinstance(conn, str)
        self._pool: Any = None
        self.conn: Any = None
        if isinstance(conn, str):
            pool_class = _pool_class()
            if pool and pool_class is None:
                raise ImportError(
                    "PostgresStore(pool=True) needs psycopg_pool: "
                    "pip install 'graphpool[postgres]'."
                )
            if pool_class is not None and pool is not False:
                self._pool = pool_class(
                    conn,
                    min_size=1,
                    max_size=max_connections,
                    kwargs={"autocommit": True},
                    open=True,
                )
            else:
                self.conn = psycopg.connect(conn, autocommit=True)
        elif hasattr(conn, "connection") and hasattr(conn, "getconn"):
            self._pool = conn
        else:
            if not getattr(conn, "autocommit", False):
                raise InvalidConfigError(
                    "PostgresStore needs a connection in autocommit mode: "
                    "psycopg.connect(..., autocommit=True)."
                )
            self.conn = conn
        self.setup()

    def setup(self) -> None:
        """Create the tables if they do not exist (done when the store is made)."""
        with self._transaction(write=True) as run:
            run.one("SELECT pg_advisory_xact_lock(?::bigint)", [_SETUP_LOCK])
            for statement in _SCHEMA:
                run.one(statement)

    def __repr__(self) -> str:
        kind = "pool" if self._pool is not None else "connection"
        return f"<PostgresStore ({kind})>"

    def close(self) -> None:
        """Stop the TTL sweeper; close the pool or connection if this store opened it."""
        super().close()
        if self._owned:
            if self._pool is not None:
                self._pool.close()
            else:
                with self._lock:
                    self.conn.close()

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[_Run]:
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction():
                yield _Run(conn)
        else:
            with self._lock, self.conn.transaction():
                yield _Run(self.conn)

    def _equals(self, field: str) -> tuple[str, list[Any]] | None:
        # PostgreSQL cannot read a document holding an escaped NUL ("\u0000") as
        # JSON: such rows pass here, and the filter in Python decides
        return (
            "(CASE WHEN strpos(value, '\\u0000') > 0 THEN TRUE "
            "ELSE ((value::json ->> ?) = ? OR (value::json -> '$t') IS NOT NULL) END)",
            [field],
        )
