"""The server on PostgreSQL (``--database postgresql://...``): several ``graphpool serve``
processes, on one machine or many, share one database.

:class:`PostgresStorage` runs :class:`~._storage.Storage`'s queries on a
``psycopg_pool.ConnectionPool``; :class:`PostgresRunQueue` is the same
:class:`~._queue.SqlRunQueue` (its claim takes ``FOR UPDATE SKIP LOCKED``) plus
``LISTEN``/``NOTIFY``::

    server A: admit() ── INSERT run; NOTIFY graphpool_runs ──> COMMIT
                                             │
    server B: wait() <── its LISTEN connection wakes ──> claim() ── SKIP LOCKED

A server that dies stops renewing its leases; another puts its runs back
(``recover``) and resumes each from its last checkpoint (test_failover.py).
psycopg and psycopg_pool come with ``graphpool[postgres]``, imported only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from ._deps import require_server_deps
from ._dialect import POSTGRES
from ._queue import SqlRunQueue
from ._storage import SCHEMA, Storage

__all__ = ["CHANNEL", "PostgresRunQueue", "PostgresStorage"]

log = logging.getLogger("graphpool.server")

CHANNEL = "graphpool_runs"  # LISTEN/NOTIFY channel: a run may be claimable now


def _modules() -> tuple[Any, Any]:
    """psycopg and psycopg_pool (ImportError naming the extras if one is missing)."""
    require_server_deps(postgres=True)
    import psycopg
    import psycopg_pool

    return psycopg, psycopg_pool


class _Connection:
    """A psycopg connection that takes the server's ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)


class PostgresStorage(Storage):
    """The server's records in PostgreSQL, on a pool of autocommit connections.

    Raises:
        ImportError: psycopg or psycopg_pool is missing.
    """

    dialect = POSTGRES

    def __init__(self, url: str, *, max_connections: int = 8) -> None:
        psycopg, psycopg_pool = _modules()
        self.url = url
        self.integrity_errors = (psycopg.IntegrityError,)
        self.pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            open=True,
        )
        self.create_tables(SCHEMA)

    def close(self) -> None:
        self.pool.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_Connection]:
        with self.pool.connection() as conn, conn.transaction():
            yield _Connection(conn)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.pool.connection() as conn:
            cursor = _Connection(conn).execute(sql, params)
            if cursor.description is None:
                return []
            names = [c.name for c in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class PostgresRunQueue(SqlRunQueue):
    """:class:`~._queue.SqlRunQueue` whose idle workers sleep on ``LISTEN``."""

    storage: PostgresStorage

    def __init__(
        self, storage: PostgresStorage, max_pending: int = 10_000, per_assistant: int | None = None
    ) -> None:
        super().__init__(storage, max_pending, per_assistant)
        self._listener: asyncio.Task[None] | None = None

    def _announce(self, db: Any, what: str = "") -> None:
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, what))

    async def wait(self, timeout: float) -> None:
        if self._listener is None:
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        await super().wait(timeout)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None
        await super().aclose()

    async def _listen(self) -> None:
        """Wake :meth:`wait` on each notification; reconnect if the connection drops
        (meanwhile the worker still polls every second)."""
        psycopg, _ = _modules()
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self.storage.url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.notify()  # whatever came while nobody listened
                    async for note in conn.notifies():
                        if note.payload == "cancel":
                            self._cancel_announced = True
                        self.notify()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database restarted, say: listen again soon
                log.warning("LISTEN %s failed; trying again in 1 s", CHANNEL, exc_info=True)
                await asyncio.sleep(1.0)
