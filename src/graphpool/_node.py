"""Node and route callables: how graphpool calls user functions.

A node is called as ``fn(state)``, or ``fn(state, config=config)`` when it has a
parameter named ``config`` (LangGraph's rule). It may be sync or async.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from .types import RetryPolicy

__all__ = ["Callee", "NodeSpec"]


def _is_async(fn: Any) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


def _accepts_config(fn: Any) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    param = params.get("config")
    return param is not None and param.kind in (
        param.POSITIONAL_OR_KEYWORD,
        param.KEYWORD_ONLY,
    )


@dataclasses.dataclass(frozen=True)
class Callee:
    """A user function with what is needed to call it: sync or async, config or not."""

    fn: Callable[..., Any]
    is_async: bool
    wants_config: bool

    @classmethod
    def of(cls, fn: Callable[..., Any]) -> Callee:
        return cls(fn, _is_async(fn), _accepts_config(fn))

    def args(self, value: Any, config: Mapping[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (value,), ({"config": config} if self.wants_config else {})

    def call_sync(self, value: Any, config: Mapping[str, Any]) -> Any:
        """Call from a worker thread; an async function runs on the shared event loop."""
        args, kwargs = self.args(value, config)
        if self.is_async:
            from ._pool._loop import run_coroutine

            return run_coroutine(self.fn(*args, **kwargs))
        return self.fn(*args, **kwargs)

    async def call_async(self, value: Any, config: Mapping[str, Any]) -> Any:
        """Call from an event loop (sync functions are called inline)."""
        args, kwargs = self.args(value, config)
        result = self.fn(*args, **kwargs)
        if self.is_async or asyncio.iscoroutine(result):
            result = await result
        return result


def callable_name(fn: Any) -> str:
    """LangGraph's default name for a node or route: its ``name`` or ``__name__``."""
    name = getattr(fn, "name", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


@dataclasses.dataclass(frozen=True)
class NodeSpec:
    """A node as declared with ``add_node``."""

    name: str
    callee: Callee
    input_schema: Any | None = None
    retry_policy: tuple[RetryPolicy, ...] = ()
    timeout: float | None = None
    executor: str | None = None
    metadata: Mapping[str, Any] | None = None
    destinations: tuple[str, ...] | None = None
    resources: Mapping[str, Any] | None = None  # Ray task options (executor="ray")
