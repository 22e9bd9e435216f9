"""What differs between the server's two databases, SQLite and PostgreSQL, as values.

The server's SQL is written once, with ``?`` placeholders and ``INSERT ... ON
CONFLICT`` (both databases take it); the few places that differ read a field of
the storage's :class:`Dialect`: column types in the schema, JSON field matches,
row locks for the run queue, and how to list a table's columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

from ._json import dumps

__all__ = ["POSTGRES", "SQLITE", "Dialect", "is_postgres", "upsert"]


_SETUP_KEY = int.from_bytes(
    hashlib.blake2b(b"graphpool:serve", digest_size=8).digest(), "big", signed=True
)


@dataclasses.dataclass(frozen=True)
class Dialect:
    """One database's spelling of the few things the server's SQL cannot share."""

    name: str
    serial: str  # an auto-numbered primary key column's type
    real: str  # a float column's type
    lock: str  # appended to a SELECT that must lock its rows until the transaction ends
    skip_locked: str  # ... and skip rows another transaction holds (the run queue's claim)
    columns_sql: str  # a table's column names, in order (one parameter: the table)
    setup_lock: str  # run before creating the tables: servers starting together take turns

    def json_match(self, column: str, key: str, value: Any) -> tuple[str, list[Any]]:
        """SQL true when the JSON object in ``column`` has ``key`` equal to ``value``."""
        if self.name == "sqlite":
            path = '$."' + key.replace('"', "") + '"'
            return f"json_extract({column}, ?) = json_extract(?, '$')", [path, dumps(value)]
        return f"({column}::jsonb -> ?) = ?::jsonb", [key, dumps(value)]


SQLITE = Dialect(
    name="sqlite",
    serial="INTEGER PRIMARY KEY AUTOINCREMENT",
    real="REAL",
    lock="",  # BEGIN IMMEDIATE already holds the whole file's write lock
    skip_locked="",
    columns_sql="SELECT name FROM pragma_table_info(?)",
    setup_lock="",
)

POSTGRES = Dialect(
    name="postgres",
    serial="BIGSERIAL PRIMARY KEY",
    real="DOUBLE PRECISION",
    lock=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    columns_sql="SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
    setup_lock=f"SELECT pg_advisory_xact_lock({_SETUP_KEY})",
)


def upsert(
    db: Any, table: str, row: Mapping[str, Any], key: tuple[str, ...], *, replace: bool
) -> Any:
    """Insert one row given as a dict; a row with the same ``key`` already there is
    overwritten (``replace``) or kept. SQLite (3.24+) and PostgreSQL spell it alike."""
    marks = ", ".join("?" for _ in row)
    if replace:
        sets = ", ".join(f"{c} = excluded.{c}" for c in row if c not in key)
        conflict = f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"
    else:
        conflict = "ON CONFLICT DO NOTHING"
    return db.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks}) {conflict}", tuple(row.values())
    )


def is_postgres(database: str) -> bool:
    """Whether ``--database`` names a PostgreSQL database (else a SQLite file)."""
    return database.startswith(("postgres://", "postgresql://"))
