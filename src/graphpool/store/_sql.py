"""What the SQL stores share: two tables and the statements on them.

``graphpool_store`` holds one row per item: its namespace as text (labels joined
by ``"."``, which a label cannot hold), key, JSON document, timestamps and expiry
(Unix seconds) and TTL (minutes); ``seq`` orders items by first storage.
``graphpool_store_vectors`` holds an item's vectors (one per embedded field),
normalised float32. Statements use ``?`` placeholders; a dialect runs them.

A namespace prefix is a range on the text (``'a.b' <= ns < 'a.b/'``, ``"/"``
following ``"."``), which an index on ``ns`` serves when the column compares
bytes (SQLite's default; PostgreSQL's ``COLLATE "C"``).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from typing_extensions import Self

from ._embed import pack, unpack
from ._engine import EngineStore, Keep, Key, Row, Write

__all__ = ["Run", "SqlStore", "schema"]

_CHUNK = 200  # keys per IN (...) list: well under SQLite's parameter limit
_FETCH = 256
_COLUMNS = "ns, key, value, created_at, updated_at, ttl_minutes"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


def schema(serial: str, blob: str, double: str, collate: str) -> tuple[str, ...]:
    """The tables' DDL in a dialect."""
    return (
        f"""CREATE TABLE IF NOT EXISTS graphpool_store (
            seq {serial} PRIMARY KEY,
            ns TEXT {collate} NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created_at {double} NOT NULL,
            updated_at {double} NOT NULL,
            expires_at {double},
            ttl_minutes {double},
            UNIQUE (ns, key))""",
        "CREATE INDEX IF NOT EXISTS graphpool_store_ns_seq ON graphpool_store (ns, seq)",
        """CREATE INDEX IF NOT EXISTS graphpool_store_expiry ON graphpool_store (expires_at)
            WHERE expires_at IS NOT NULL""",
        f"""CREATE TABLE IF NOT EXISTS graphpool_store_vectors (
            ns TEXT {collate} NOT NULL,
            key TEXT NOT NULL,
            field TEXT NOT NULL,
            vector {blob} NOT NULL,
            PRIMARY KEY (ns, key, field))""",
    )


class Run(Protocol):
    """A transaction's statements: ``one`` returns a cursor, ``many`` runs per row."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


def _text(namespace: tuple[str, ...]) -> str:
    return ".".join(namespace)


def _under(prefix: tuple[str, ...], column: str = "ns") -> tuple[str, list[Any]]:
    """SQL true for the namespaces under ``prefix``: one index range (``[p, p/)``), then
    ``p`` itself or what starts ``p.`` (the range also holds ``p-x``: ``-`` sorts before ``.``)."""
    if not prefix:
        return "1 = 1", []
    p = _text(prefix)
    return (
        f"({column} >= ? AND {column} < ? AND ({column} = ? OR {column} >= ?))",
        [p, p + "/", p, p + "."],
    )


def _row(record: Sequence[Any]) -> Row:
    ns, key, value, created, updated, ttl = record
    return Row(tuple(ns.split(".")), key, value, float(created), float(updated), ttl)


class SqlStore(EngineStore):
    """A store over a SQL database; a dialect supplies transactions and JSON field tests."""

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(cls, conninfo: str, **kwargs: Any) -> Iterator[Self]:
        """``with Store.from_conn_string(path_or_url) as store:``; closed on exit."""
        store = cls(conninfo, **kwargs)  # type: ignore[call-arg,arg-type]
        try:
            yield store
        finally:
            store.close()

    @abc.abstractmethod
    def _transaction(self, write: bool) -> contextlib.AbstractContextManager[Run]:
        """A transaction: a consistent read, or a write no other writer overlaps."""

    @abc.abstractmethod
    def _equals(self, field: str) -> tuple[str, list[Any]] | None:
        """SQL true when the document's top-level ``field`` equals the next parameter
        (or the document is a tagged object the test cannot see into); None to skip."""

    def _read_rows(self, keys: list[Key], now: float) -> dict[Key, Row]:
        by_space: dict[tuple[str, ...], list[str]] = {}
        for namespace, key in keys:
            by_space.setdefault(namespace, []).append(key)
        out = {}
        with self._transaction(write=False) as run:
            for namespace, names in by_space.items():
                for start in range(0, len(names), _CHUNK):
                    chunk = names[start : start + _CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    cursor = run.one(
                        f"SELECT {_COLUMNS} FROM graphpool_store "
                        f"WHERE ns = ? AND key IN ({marks}) AND {_LIVE}",
                        [_text(namespace), *chunk, now],
                    )
                    for record in cursor.fetchall():
                        row = _row(record)
                        out[(row.namespace, row.key)] = row
        return out

    def _scan(
        self,
        prefix: tuple[str, ...],
        now: float,
        equals: list[tuple[str, str]],
        keep: Keep | None,
        stop: int | None,
    ) -> list[Row]:
        where, params = _under(prefix)
        sql = f"SELECT {_COLUMNS} FROM graphpool_store WHERE {where} AND {_LIVE}"
        params.append(now)
        for field, text in equals:
            test = self._equals(field)
            if test is not None:
                sql += f" AND {test[0]}"
                params += [*test[1], text]
        sql += " ORDER BY seq"
        if keep is None and stop is not None:
            sql += f" LIMIT {int(stop)}"
        found: list[Row] = []
        if stop == 0:
            return found
        with self._transaction(write=False) as run:
            cursor = run.one(sql, params)
            while len(found) != stop:
                batch = cursor.fetchmany(_FETCH)
                if not batch:
                    break
                for record in batch:
                    row = _row(record)
                    if keep is None or keep(row, None):
                        found.append(row)
                        if len(found) == stop:
                            break
        return found

    def _read_vectors(self, prefix: tuple[str, ...], now: float) -> dict[Key, list[Any]]:
        where, params = _under(prefix, "v.ns")
        out: dict[Key, list[Any]] = {}
        with self._transaction(write=False) as run:
            cursor = run.one(
                "SELECT v.ns, v.key, v.vector FROM graphpool_store_vectors v "
                "JOIN graphpool_store s ON s.ns = v.ns AND s.key = v.key "
                f"WHERE {where} AND (s.expires_at IS NULL OR s.expires_at > ?)",
                [*params, now],
            )
            for ns, key, vector in cursor.fetchall():
                out.setdefault((tuple(ns.split(".")), key), []).append(unpack(vector))
        return out

    def _read_namespaces(self, prefix: tuple[str, ...], now: float) -> Iterable[tuple[str, ...]]:
        where, params = _under(prefix)
        with self._transaction(write=False) as run:
            cursor = run.one(
                f"SELECT DISTINCT ns FROM graphpool_store WHERE {where} AND {_LIVE}",
                [*params, now],
            )
            return [tuple(ns.split(".")) for (ns,) in cursor.fetchall()]

    def _write(self, puts: list[Write], deletes: list[Key], refresh: list[Key], now: float) -> None:
        gone = [(_text(ns), key) for ns, key in deletes]
        # an expired item is gone even before a sweep: a put makes it anew
        stale = [(_text(p.namespace), p.key, now) for p in puts]
        upserts = [
            (_text(p.namespace), p.key, p.value, now, now, p.expires_at, p.ttl) for p in puts
        ]
        reindexed = [(_text(p.namespace), p.key) for p in puts if p.vectors is not None]
        vectors = [
            (_text(p.namespace), p.key, field, pack(vector))
            for p in puts
            for field, vector in p.vectors or ()
        ]
        touched = [(now, _text(ns), key, now) for ns, key in refresh]
        with self._transaction(write=True) as run:
            if gone:
                run.many("DELETE FROM graphpool_store WHERE ns = ? AND key = ?", gone)
                run.many("DELETE FROM graphpool_store_vectors WHERE ns = ? AND key = ?", gone)
            if puts:
                run.many(
                    "DELETE FROM graphpool_store WHERE ns = ? AND key = ? "
                    "AND expires_at IS NOT NULL AND expires_at <= ?",
                    stale,
                )
                run.many(
                    "INSERT INTO graphpool_store (ns, key, value, created_at, updated_at, "
                    "expires_at, ttl_minutes) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at, expires_at = excluded.expires_at, "
                    "ttl_minutes = excluded.ttl_minutes",
                    upserts,
                )
            if reindexed:
                run.many("DELETE FROM graphpool_store_vectors WHERE ns = ? AND key = ?", reindexed)
            if vectors:
                run.many(
                    "INSERT INTO graphpool_store_vectors (ns, key, field, vector) "
                    "VALUES (?, ?, ?, ?)",
                    vectors,
                )
            if touched:
                run.many(
                    "UPDATE graphpool_store SET expires_at = ? + ttl_minutes * 60 "
                    f"WHERE ns = ? AND key = ? AND ttl_minutes IS NOT NULL AND {_LIVE}",
                    touched,
                )

    def _sweep(self, now: float) -> int:
        with self._transaction(write=True) as run:
            run.one(
                "DELETE FROM graphpool_store_vectors WHERE EXISTS (SELECT 1 FROM graphpool_store s "
                "WHERE s.ns = graphpool_store_vectors.ns AND s.key = graphpool_store_vectors.key "
                "AND s.expires_at IS NOT NULL AND s.expires_at <= ?)",
                [now],
            )
            cursor = run.one(
                "DELETE FROM graphpool_store WHERE expires_at IS NOT NULL AND expires_at <= ?",
                [now],
            )
            return int(cursor.rowcount)
