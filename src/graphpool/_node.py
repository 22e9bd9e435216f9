"""Node and route callables: how graphpool calls user functions.

A node is called as ``fn(state)``, or ``fn(state, config=config)`` when it has a
parameter named ``config`` (LangGraph's rule). It may be sync or async. A
langchain-core ``Runnable`` is called as ``runnable.invoke(state, config)``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

from . import _lc
from ._context import current_task
from .types import RetryPolicy

__all__ = ["Callee", "NodeSpec"]


def _is_async(fn: Any) -> bool:
    import inspect

    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with async __call__
    )


def _accepts_config(fn: Any) -> bool:
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    param = params.get("config")
    return param is not None and param.kind in (
        param.POSITIONAL_OR_KEYWORD,
        param.KEYWORD_ONLY,
    )


_INJECTED = ("runtime", "writer", "store")
"""Parameters a node or route may declare to be given run-scoped things (LangGraph's)."""


def _injected(fn: Any) -> tuple[str, ...]:
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = {p.name for p in params[1:] if p.kind in kinds}  # the first one is the state
    return tuple(name for name in _INJECTED if name in named)


@dataclasses.dataclass(frozen=True)
class Callee:
    """A user function with what is needed to call it: sync or async, config or not.

    ``runnable``: ``fn`` is a langchain-core Runnable, called with
    ``invoke(value, config)`` (``ainvoke`` when ``is_async``, or from the async
    driver's event loop).
    """

    fn: Callable[..., Any]
    is_async: bool
    wants_config: bool
    runnable: bool = False
    injects: tuple[str, ...] = ()  # of "runtime", "writer", "store"

    @classmethod
    def of(cls, fn: Any) -> Callee:
        if _lc.is_runnable(fn):
            return cls(_lc.adapt(fn), _lc.runnable_is_async(fn), True, runnable=True)
        return cls(fn, _is_async(fn), _accepts_config(fn), injects=_injected(fn))

    def args(
        self, value: Any, config: Mapping[str, Any] | None, runtime: Any = None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The call's arguments: the state, then what the function asks for by name.

        ``runtime`` is the run's Runtime; None: the running task's (in this thread).
        """
        kwargs: dict[str, Any] = {"config": config} if self.wants_config else {}
        if self.injects:
            if runtime is None:
                runtime = current_task("a node asking for runtime, writer or store").runtime
            for name in self.injects:
                if name == "runtime":
                    kwargs[name] = runtime
                else:
                    kwargs[name] = getattr(runtime, "stream_writer" if name == "writer" else name)
        return (value,), kwargs

    @functools.cached_property
    def direct(self) -> Callable[[Any], Any] | None:
        """The function itself if it takes the state and nothing else (a sync plain
        function): the dispatcher's hot path calls it with no wrapper in between."""
        if self.is_async or self.injects or self.runnable or self.wants_config:
            return None
        return self.fn

    def call_sync(self, value: Any, config: Mapping[str, Any] | None, runtime: Any = None) -> Any:
        """Call from a worker thread; an async function runs on the shared event loop."""
        if not self.is_async and not self.injects and not self.runnable:  # the hot path
            if config is None:
                return self.fn(value)
            if not self.wants_config:
                return _lc.call_bound(config, self.fn, value)
        with _lc.bind_config(config):
            if self.runnable and not self.is_async:
                return self.fn.invoke(value, config)  # type: ignore[attr-defined]
            if self.is_async:
                from ._pool._loop import run_coroutine

                return run_coroutine(self._start(value, config, runtime))
            args, kwargs = self.args(value, config, runtime)
            return self.fn(*args, **kwargs)

    async def call_async(
        self, value: Any, config: Mapping[str, Any] | None, runtime: Any = None
    ) -> Any:
        """Call from an event loop (sync functions are called inline)."""
        import asyncio

        with _lc.bind_config(config):
            result = self._start(value, config, runtime)
            if self.is_async or asyncio.iscoroutine(result):
                result = await result
            return result

    def _start(self, value: Any, config: Mapping[str, Any] | None, runtime: Any = None) -> Any:
        if self.runnable:
            return self.fn.ainvoke(value, config)  # type: ignore[attr-defined]
        args, kwargs = self.args(value, config, runtime)
        return self.fn(*args, **kwargs)


def callable_name(fn: Any) -> str:
    """LangGraph's default name for a node or route: its ``name`` or ``__name__``."""
    if _lc.is_runnable(fn):
        return str(fn.get_name())
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
    idle: tuple[float, str] | None = None  # TimeoutPolicy's (idle_timeout, refresh_on)
    executor: str | None = None
    metadata: Mapping[str, Any] | None = None
    destinations: Mapping[str, str] | tuple[str, ...] | None = None  # a dict: {target: label}
    resources: Mapping[str, Any] | None = None  # Ray task options (executor="ray")
    cache_policy: Any = None  # a types.CachePolicy: reuse results by input (compile(cache=))
    defer: bool = False  # run only once nothing else is left to run (add_node(defer=True))

    def copy(self, update: Mapping[str, Any] | None = None) -> NodeSpec:
        """A copy with the fields in ``update`` replaced (LangGraph's ``PregelNode.copy``).

        Raises:
            InvalidGraphError: ``update`` names a field a node does not have.
        """
        fields = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(update or ()) - fields)
        if unknown:
            from .errors import InvalidGraphError

            raise InvalidGraphError(f"Node {self.name!r}: copy() got unknown fields {unknown}.")
        return dataclasses.replace(self, **dict(update or {}))
