"""One way to open a SQLite database, shared by the checkpoint saver, the store
and the cache: WAL mode, a busy timeout, and the durability the caller chose."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from .errors import InvalidConfigError

__all__ = ["database_path", "open_database"]


def open_database(
    where: str | os.PathLike[str] | sqlite3.Connection,
    *,
    owner: str,
    timeout: float,
    synchronous: str = "NORMAL",
) -> tuple[sqlite3.Connection, bool]:
    """A connection set up for many threads and processes, and whether we opened it.

    ``where`` is a path or an open connection (made with ``check_same_thread=False``
    and ``isolation_level=None`` if several threads use it; it is not closed here).

    Raises:
        InvalidConfigError: ``synchronous`` is neither ``NORMAL`` nor ``FULL``.
    """
    if not isinstance(synchronous, str) or synchronous.upper() not in ("NORMAL", "FULL"):
        raise InvalidConfigError(
            f"{owner}: synchronous={synchronous!r} is unknown; choose 'NORMAL' or 'FULL'."
        )
    owned = not isinstance(where, sqlite3.Connection)
    if isinstance(where, sqlite3.Connection):
        conn = where
    else:
        conn = sqlite3.connect(
            os.fspath(where), timeout=timeout, check_same_thread=False, isolation_level=None
        )
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")  # ":memory:" stays in memory mode
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    return conn, owned


def database_path(conn: Any) -> str:
    """The file behind ``conn`` ("" for an in-memory database)."""
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(file)
    return ""
