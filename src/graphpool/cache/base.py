"""The cache's interface, as LangGraph's ``langgraph.cache.base``: values under
``(namespace, key)``, each with its own time to live.

A graph compiled with ``cache=`` stores the result of each node that has a
:class:`~graphpool.types.CachePolicy` under the node's namespace and a digest of
its input; a later task of that node with an equal input takes the stored
result instead of running. Values are encoded by the checkpoint serializer (JSON
with type tags), so what comes back is a copy, and nothing is ever unpickled.
"""

from __future__ import annotations

import abc
import asyncio
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from ..errors import InvalidConfigError, SerializationError

__all__ = ["BaseCache", "FullKey", "Namespace", "ValueT"]

ValueT = TypeVar("ValueT")
Namespace = tuple[str, ...]
FullKey = tuple[Namespace, str]


def _check_namespace(namespace: Any, where: str) -> Namespace:
    if not isinstance(namespace, tuple) or not all(isinstance(p, str) for p in namespace):
        raise InvalidConfigError(f"{where}: namespace {namespace!r} must be a tuple of strings.")
    return namespace


def check_key(full_key: Any, where: str) -> FullKey:
    """A ``(namespace, key)`` pair, checked."""
    if not isinstance(full_key, tuple) or len(full_key) != 2:
        raise InvalidConfigError(f"{where}: {full_key!r} must be a (namespace, key) pair.")
    namespace, key = full_key
    _check_namespace(namespace, where)
    if not isinstance(key, str):
        raise InvalidConfigError(f"{where}: key {key!r} must be a str.")
    return namespace, key


def check_ttl(ttl: Any, where: str) -> float | None:
    """Seconds to live: None (forever) or a finite number >= 0."""
    if ttl is None:
        return None
    if (
        not isinstance(ttl, numbers.Real)
        or isinstance(ttl, bool)
        or not math.isfinite(ttl)
        or ttl < 0
    ):
        raise InvalidConfigError(f"{where}: ttl={ttl!r} must be None or a number of seconds >= 0.")
    return float(ttl)


class BaseCache(abc.ABC, Generic[ValueT]):
    """A cache of values under ``(namespace, key)``; subclasses implement the
    sync methods, and may override the async ones (which run the sync ones in a
    worker thread by default).

    Args:
        serde: an object with ``dumps(value) -> bytes`` and ``loads(bytes)``; by
            default :class:`~graphpool.checkpoint.serde.JsonSerializer`.
    """

    def __init__(self, *, serde: Any = None) -> None:
        if serde is None:
            from ..checkpoint.serde import JsonSerializer

            serde = JsonSerializer()
        if not (
            callable(getattr(serde, "dumps", None)) and callable(getattr(serde, "loads", None))
        ):
            raise InvalidConfigError(
                f"{type(self).__name__}: serde={serde!r} needs dumps and loads."
            )
        self.serde = serde

    def _encode(self, full_key: FullKey, value: Any) -> bytes:
        try:
            return bytes(self.serde.dumps(value))
        except SerializationError as exc:
            raise SerializationError(f"cache set {full_key!r}: {exc}") from None

    @abc.abstractmethod
    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """The live values at ``keys``; keys missing or expired are left out."""

    @abc.abstractmethod
    def set(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        """Store ``{(namespace, key): (value, ttl_seconds_or_None)}``.

        Raises:
            SerializationError: a value the serializer cannot encode (nothing of
                the batch is stored).
        """

    @abc.abstractmethod
    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """Delete everything in ``namespaces`` (exact namespaces), or everything."""

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, ValueT]:
        """:meth:`get`, awaitable."""
        return await asyncio.to_thread(self.get, keys)

    async def aset(self, pairs: Mapping[FullKey, tuple[ValueT, float | None]]) -> None:
        """:meth:`set`, awaitable."""
        await asyncio.to_thread(self.set, pairs)

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        """:meth:`clear`, awaitable."""
        await asyncio.to_thread(self.clear, namespaces)

    def _namespaces(self, namespaces: Sequence[Namespace] | None) -> list[Namespace] | None:
        if namespaces is None:
            return None
        if isinstance(namespaces, tuple) and all(isinstance(p, str) for p in namespaces):
            raise InvalidConfigError(
                f"clear: namespaces={namespaces!r} is one namespace; pass a list of them."
            )
        return [_check_namespace(ns, "clear") for ns in namespaces]
