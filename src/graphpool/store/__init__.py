"""Long-term memory for graphs: stores of JSON documents under namespaces.

LangGraph's store API (``langgraph.store``), with the same names:

* :class:`~graphpool.store.memory.InMemoryStore` (``graphpool.store.memory``): in
  this process;
* :class:`~graphpool.store.sqlite.SqliteStore` (``graphpool.store.sqlite``): a
  SQLite file in WAL mode, standard library only; the embedded default on disk;
* :class:`~graphpool.store.postgres.PostgresStore` (``graphpool.store.postgres``):
  PostgreSQL through psycopg 3 (``pip install 'graphpool[postgres]'``).

All three support TTL (``put(..., ttl=minutes)``, refreshed by reads) and, given
``index={"dims": n, "embed": fn, "fields": [...]}``, vector search
(``search(prefix, query="...")``, cosine similarity). Values are saved as JSON
(the checkpoint serializer's format); nothing is pickled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    BaseStore,
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    NamespacePath,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

if TYPE_CHECKING:
    from .memory import InMemoryStore
    from .postgres import PostgresStore
    from .sqlite import SqliteStore

__all__ = [
    "BaseStore",
    "GetOp",
    "InMemoryStore",
    "IndexConfig",
    "InvalidNamespaceError",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "NamespacePath",
    "Op",
    "PostgresStore",
    "PutOp",
    "Result",
    "SearchItem",
    "SearchOp",
    "SqliteStore",
    "TTLConfig",
]

_LAZY = {"InMemoryStore": "memory", "SqliteStore": "sqlite", "PostgresStore": "postgres"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
