"""``InMemoryCache``: node results cached in this process's memory.

from graphpool.cache.memory import InMemoryCache

graph = builder.compile(cache=InMemoryCache())
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .base import BaseCache, FullKey, Namespace, ValueT, check_key, check_ttl

__all__ = ["InMemoryCache"]


class InMemoryCache(BaseCache[ValueT]):
    """A cache in memory, safe to share between threads; values kept encoded, so
    each hit is a fresh copy. Expired entries are dropped when read."""

    def __init__(self, *, serde: Any = None) -> None:
        super().__init__(serde=serde)
        self._lock = threading.Lock()
        self._spaces: dict[Namespace, dict[str, tuple[bytes, float | None]]] = {}
        self._clock: Callable[[], float] = time.monotonic

    def __repr__(self) -> str:
        with self._lock:
            count = sum(len(entries) for entries in self._spaces.values())
        return f"<InMemoryCache entries={count}>"

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        found: dict[FullKey, bytes] = {}
        now = self._clock()
        with self._lock:
            for full_key in keys:
                namespace, key = check_key(full_key, "cache get")
                entries = self._spaces.get(namespace)
                entry = entries.get(key) if entries else None
                if entry is None:
                    continue
                if entry[1] is not None and entry[1] <= now:
                    del entries[key]  # type: ignore[union-attr]
                    continue
                found[(namespace, key)] = entry[0]
        return {k: self.serde.loads(data) for k, data in found.items()}

    def set(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        now = self._clock()
        encoded = []
        for full_key, (value, ttl) in pairs.items():
            namespace, key = check_key(full_key, "cache set")
            seconds = check_ttl(ttl, "cache set")
            expiry = now + seconds if seconds is not None else None
            encoded.append((namespace, key, self._encode(full_key, value), expiry))
        with self._lock:
            for namespace, key, data, expiry in encoded:
                self._spaces.setdefault(namespace, {})[key] = (data, expiry)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        chosen = self._namespaces(namespaces)
        with self._lock:
            if chosen is None:
                self._spaces.clear()
            else:
                for namespace in chosen:
                    self._spaces.pop(namespace, None)

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        return self.get(keys)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        self.set(pairs)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self.clear(namespaces)
