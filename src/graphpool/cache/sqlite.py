"""``SqliteCache``: node results cached in a SQLite file, kept across restarts.

Standard library only; WAL mode, one connection shared by threads under a lock,
each write its own transaction, so several processes can share the file. A
namespace is stored as a JSON array, so any label is safe. Expired entries are
deleted when read and, in bulk, when new ones are set.

    from graphpool.cache.sqlite import SqliteCache

    graph = builder.compile(cache=SqliteCache("cache.db"))
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._sqlite import database_path, open_database
from .base import BaseCache, FullKey, Namespace, ValueT, check_key, check_ttl

__all__ = ["SqliteCache"]

_CHUNK = 200
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS graphpool_cache (
        ns TEXT NOT NULL,
        key TEXT NOT NULL,
        expiry REAL,
        value BLOB NOT NULL,
        PRIMARY KEY (ns, key))""",
    """CREATE INDEX IF NOT EXISTS graphpool_cache_expiry ON graphpool_cache (expiry)
        WHERE expiry IS NOT NULL""",
)


def _ns(namespace: Namespace) -> str:
    return json.dumps(list(namespace), ensure_ascii=False, separators=(",", ":"))


class SqliteCache(BaseCache[ValueT]):
    """A cache in a SQLite database file.

    Args:
        path: the file (created if needed; ``":memory:"`` works too).
        serde: see :class:`~graphpool.cache.base.BaseCache`.
        timeout: seconds to wait for another process's write to finish.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, serde: Any = None, timeout: float = 30.0
    ) -> None:
        super().__init__(serde=serde)
        self._lock = threading.Lock()
        self._clock: Callable[[], float] = time.time  # expiries outlive the process
        self.conn, _ = open_database(path, owner="SqliteCache", timeout=timeout)
        with self._lock:
            for statement in _SCHEMA:
                self.conn.execute(statement)

    def __repr__(self) -> str:
        return f"<SqliteCache {self.path!r}>"

    @property
    def path(self) -> str:
        """The database file ("" for an in-memory database)."""
        return database_path(self.conn)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.conn.close()

    def __enter__(self) -> SqliteCache[ValueT]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        by_space: dict[Namespace, list[str]] = {}
        for full_key in keys:
            namespace, key = check_key(full_key, "cache get")
            by_space.setdefault(namespace, []).append(key)
        now = self._clock()
        found: dict[FullKey, bytes] = {}
        expired: list[tuple[str, str]] = []
        with self._lock:
            for namespace, names in by_space.items():
                for start in range(0, len(names), _CHUNK):
                    chunk = names[start : start + _CHUNK]
                    rows = self.conn.execute(
                        "SELECT key, expiry, value FROM graphpool_cache WHERE ns = ? "
                        f"AND key IN ({', '.join('?' * len(chunk))})",
                        (_ns(namespace), *chunk),
                    ).fetchall()
                    for key, expiry, value in rows:
                        if expiry is not None and expiry <= now:
                            expired.append((_ns(namespace), key))
                        else:
                            found[(namespace, key)] = bytes(value)
            if expired:
                self.conn.executemany(
                    "DELETE FROM graphpool_cache WHERE ns = ? AND key = ? AND expiry <= ?",
                    [(*pair, now) for pair in expired],
                )
        return {k: self.serde.loads(data) for k, data in found.items()}

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        now = self._clock()
        rows = []
        for full_key, (value, ttl) in pairs.items():
            namespace, key = check_key(full_key, "cache set")
            seconds = check_ttl(ttl, "cache set")
            expiry = now + seconds if seconds is not None else None
            rows.append((_ns(namespace), key, expiry, self._encode(full_key, value)))
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "INSERT INTO graphpool_cache (ns, key, expiry, value) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (ns, key) DO UPDATE SET expiry = excluded.expiry, "
                    "value = excluded.value",
                    rows,
                )
                self.conn.execute(
                    "DELETE FROM graphpool_cache WHERE expiry IS NOT NULL AND expiry <= ?", (now,)
                )
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.commit()

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        chosen = self._namespaces(namespaces)
        with self._lock:
            if chosen is None:
                self.conn.execute("DELETE FROM graphpool_cache")
            else:
                self.conn.executemany(
                    "DELETE FROM graphpool_cache WHERE ns = ?", [(_ns(ns),) for ns in chosen]
                )
