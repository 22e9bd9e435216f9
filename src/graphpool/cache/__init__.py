"""Caching node results: ``compile(cache=...)`` with a :class:`~graphpool.types.CachePolicy`
on the nodes to cache (``add_node(..., cache_policy=CachePolicy(ttl=60))``).

LangGraph's cache API (``langgraph.cache``), with the same names:

* :class:`~graphpool.cache.memory.InMemoryCache` (``graphpool.cache.memory``);
* :class:`~graphpool.cache.sqlite.SqliteCache` (``graphpool.cache.sqlite``), kept
  across restarts.

For the runtime: :func:`node_namespace` names a node's entries and
:func:`task_key` turns a policy and a node's input into the entry's key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._key import node_namespace
from .base import BaseCache, FullKey, Namespace

if TYPE_CHECKING:
    from ..types import CachePolicy
    from .memory import InMemoryCache
    from .sqlite import SqliteCache

__all__ = [
    "BaseCache",
    "FullKey",
    "InMemoryCache",
    "Namespace",
    "SqliteCache",
    "node_namespace",
    "task_key",
]


def task_key(policy: CachePolicy, *args: Any, **kwargs: Any) -> str:
    """The cache key of a task: ``policy.key_func(*args, **kwargs)`` (for a node,
    its one input), digested to 32 hex characters.

    Raises:
        SerializationError: the default key function met a value with no stable form.
        InvalidConfigError: a ``key_func`` returned something other than str or bytes.
    """
    from ._key import digest

    return digest(policy.key_func(*args, **kwargs))


_LAZY = {"InMemoryCache": "memory", "SqliteCache": "sqlite"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
