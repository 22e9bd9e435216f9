"""``InMemoryStore``: the store in this process's memory, for tests and single-process apps.

    from graphpool.store.memory import InMemoryStore

    store = InMemoryStore()
    store.put(("users", "u1"), "prefs", {"theme": "dark"})
    store.get(("users", "u1"), "prefs").value            # {'theme': 'dark'}

Values are kept as their JSON documents (the checkpoint serializer's format),
so what ``get`` returns is a copy: changing it does not change the store, and a
value that could not be saved to disk is refused here too, as by the SQL stores.
Unlike LangGraph's in-memory store, TTL is supported.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from ._engine import EngineStore, Keep, Key, Row, Write, loads
from .base import IndexConfig, TTLConfig

__all__ = ["InMemoryStore"]


class _Record(NamedTuple):
    row: Row
    document: dict[str, Any]  # decoded once, for filters; never handed out
    seq: int
    expires_at: float | None


def _live(record: _Record, now: float) -> bool:
    return record.expires_at is None or record.expires_at > now


class InMemoryStore(EngineStore):
    """A store in memory, safe to share between threads.

    Args:
        index: an :class:`~graphpool.store.base.IndexConfig` to enable vector search.
        ttl: a :class:`~graphpool.store.base.TTLConfig`.

    Raises:
        InvalidConfigError: a bad ``index`` or ``ttl`` config.
    """

    _blocking = False  # nothing waits on I/O: abatch runs inline

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None) -> None:
        super().__init__(index=index, ttl=ttl)
        self._lock = threading.RLock()
        self._spaces: dict[tuple[str, ...], dict[str, _Record]] = {}
        self._vectors: dict[Key, list[list[float]]] = {}
        self._seq = 0

    def __repr__(self) -> str:
        with self._lock:
            count = sum(len(items) for items in self._spaces.values())
        return f"<InMemoryStore items={count}>"

    def _read_rows(self, keys: list[Key], now: float) -> dict[Key, Row]:
        out = {}
        with self._lock:
            for namespace, key in keys:
                record = self._spaces.get(namespace, {}).get(key)
                if record is not None and _live(record, now):
                    out[(namespace, key)] = record.row
        return out

    def _records(self, prefix: tuple[str, ...]) -> Iterator[_Record]:
        """Every record under ``prefix``, in stored order (each namespace's dict is
        already in ``seq`` order: an update keeps its slot, a new put appends)."""
        n = len(prefix)
        groups = [items.values() for ns, items in self._spaces.items() if ns[:n] == prefix]
        if len(groups) == 1:
            return iter(groups[0])
        return heapq.merge(*groups, key=lambda r: r.seq)

    def _scan(
        self,
        prefix: tuple[str, ...],
        now: float,
        equals: list[tuple[str, str]],
        keep: Keep | None,
        stop: int | None,
    ) -> list[Row]:
        found: list[Row] = []
        if stop == 0:
            return found
        with self._lock:
            for record in self._records(prefix):
                if _live(record, now) and (keep is None or keep(record.row, record.document)):
                    found.append(record.row)
                    if len(found) == stop:
                        break
        return found

    def _read_vectors(self, prefix: tuple[str, ...], now: float) -> dict[Key, list[Any]]:
        n = len(prefix)
        with self._lock:
            return {key: vectors for key, vectors in self._vectors.items() if key[0][:n] == prefix}

    def _read_namespaces(self, prefix: tuple[str, ...], now: float) -> Iterable[tuple[str, ...]]:
        n = len(prefix)
        with self._lock:
            return [
                ns
                for ns, items in self._spaces.items()
                if ns[:n] == prefix and any(_live(r, now) for r in items.values())
            ]

    def _write(self, puts: list[Write], deletes: list[Key], refresh: list[Key], now: float) -> None:
        with self._lock:
            for namespace, key in deletes:
                self._drop(namespace, key)
            for put in puts:
                items = self._spaces.setdefault(put.namespace, {})
                old = items.get(put.key)
                if old is not None and not _live(old, now):
                    self._drop(put.namespace, put.key)  # an expired item is gone: start anew
                    items = self._spaces.setdefault(put.namespace, {})
                    old = None
                if old is None:
                    self._seq += 1
                created, seq = (old.row.created_at, old.seq) if old else (now, self._seq)
                row = Row(put.namespace, put.key, put.value, created, now, put.ttl)
                document = loads(self._serde, put.value)
                items[put.key] = _Record(row, document, seq, put.expires_at)
                if put.vectors is not None:
                    self._vectors.pop((put.namespace, put.key), None)
                    if put.vectors:
                        self._vectors[(put.namespace, put.key)] = [v for _, v in put.vectors]
            for namespace, key in refresh:
                record = self._spaces.get(namespace, {}).get(key)
                if record is not None and record.row.ttl is not None and _live(record, now):
                    expires = now + record.row.ttl * 60
                    self._spaces[namespace][key] = record._replace(expires_at=expires)

    def _drop(self, namespace: tuple[str, ...], key: str) -> None:
        items = self._spaces.get(namespace)
        if items is not None and items.pop(key, None) is not None and not items:
            del self._spaces[namespace]
        self._vectors.pop((namespace, key), None)

    def _sweep(self, now: float) -> int:
        with self._lock:
            expired = [
                (ns, key)
                for ns, items in self._spaces.items()
                for key, record in items.items()
                if not _live(record, now)
            ]
            for namespace, key in expired:
                self._drop(namespace, key)
        return len(expired)
