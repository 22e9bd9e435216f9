"""The bridge to langchain-core, an optional dependency used only by graphs that use it.

Nothing here imports langchain-core at graphpool's import time. A langchain
object (a Runnable, a message) can only exist once ``langchain_core`` has been
imported, so checks look at ``sys.modules`` instead of importing it.

What it provides to the runtime:

* :func:`is_runnable`: whether a node or route is a langchain-core ``Runnable``;
  such objects are called with ``invoke(state, config)`` / ``ainvoke``.
* :func:`bind_config`: while a node or route runs, langchain-core's
  context variable holds the node's config, so a chat model called inside a
  plain function node (``model.invoke(messages)``, no config passed) inherits
  the caller's callbacks and tags, and the run's ``messages`` stream, as it
  does under LangGraph.
* :func:`require`: import langchain-core or fail with an error naming the extra.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["EXTRA_HINT", "adapt", "bind_config", "config_var", "is_runnable", "loaded", "require"]

EXTRA_HINT = "pip install 'graphpool[messages]'"
"""How to install what :func:`require` needs."""


def loaded() -> bool:
    """Whether langchain-core has been imported in this process."""
    return sys.modules.get("langchain_core") is not None


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` from langchain-core, or raise ImportError naming the extra.

    Args:
        module: e.g. ``"langchain_core.messages"``.
        feature: what needs it, for the message (``"add_messages"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs langchain-core, which is not installed: {EXTRA_HINT}"
        ) from exc


def is_runnable(obj: Any) -> bool:
    """Whether ``obj`` is a langchain-core ``Runnable`` (never imports langchain-core)."""
    base = sys.modules.get("langchain_core.runnables.base")
    return base is not None and isinstance(obj, base.Runnable)


def runnable_is_async(runnable: Any) -> bool:
    """Whether a Runnable only has an async implementation.

    True for ``RunnableLambda(async_fn)`` and LangGraph's ``RunnableCallable``
    built without a sync function: their ``invoke`` cannot run, so graphpool
    awaits ``ainvoke`` instead. Every other Runnable is called with ``invoke``
    on a worker thread.
    """
    return hasattr(runnable, "afunc") and getattr(runnable, "func", None) is None


def bind_config(config: Mapping[str, Any] | None) -> contextlib.AbstractContextManager[Any]:
    """Make ``config`` the config langchain-core sees as the current parent.

    A no-op when langchain-core is not loaded or there is no config.
    """
    if config is None or not loaded():
        return _NO_BINDING
    return _Bound(config)


def call_bound(config: Mapping[str, Any], fn: Callable[[Any], Any], value: Any) -> Any:
    """``fn(value)`` with ``config`` bound as by :func:`bind_config` (the hot path of
    a plain node while langchain-core is loaded: no context manager object)."""
    if not loaded():
        return fn(value)
    var = config_var()
    token = var.set(config)
    try:
        return fn(value)
    finally:
        var.reset(token)


def config_var() -> Any:
    """langchain-core's context variable of the current config (call it only once
    langchain-core is loaded)."""
    return _child_config or _config_var()


def _config_var() -> Any:
    global _child_config
    from langchain_core.runnables.config import var_child_runnable_config

    _child_config = var_child_runnable_config
    return _child_config


_NO_BINDING = contextlib.nullcontext()
_child_config: Any = None  # langchain-core's ContextVar, looked up once


class _Bound:
    """Sets langchain-core's current-config context variable for a ``with`` block."""

    __slots__ = ("config", "token")

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def __enter__(self) -> None:
        self.token = config_var().set(self.config)

    def __exit__(self, *exc_info: object) -> None:
        _child_config.reset(self.token)


class _LangGraphRunnable:
    """A LangGraph-made Runnable (``langgraph.prebuilt.ToolNode``) run unchanged.

    LangGraph's own runnables read a ``Runtime`` object that LangGraph's engine
    puts in the config; graphpool supplies LangGraph's default one (no store, no
    context, a no-op stream writer). Only reached when the node object itself
    comes from the ``langgraph`` package, which is then installed.
    """

    __slots__ = ("key", "runnable", "runtime")

    def __init__(self, runnable: Any, key: str, runtime: Any) -> None:
        self.runnable = runnable
        self.key = key
        self.runtime = runtime

    def _config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        configurable = dict(config.get("configurable") or {})
        configurable.setdefault(self.key, self.runtime)
        return {**config, "configurable": configurable}

    def invoke(self, value: Any, config: Mapping[str, Any]) -> Any:
        return self.runnable.invoke(value, self._config(config))

    async def ainvoke(self, value: Any, config: Mapping[str, Any]) -> Any:
        return await self.runnable.ainvoke(value, self._config(config))


def adapt(runnable: Any) -> Any:
    """The object graphpool calls ``invoke``/``ainvoke`` on for a Runnable node."""
    if not type(runnable).__module__.startswith("langgraph."):
        return runnable
    try:
        from langgraph._internal._constants import CONFIG_KEY_RUNTIME
        from langgraph.runtime import DEFAULT_RUNTIME
    except ImportError:  # another langgraph layout: call it as any Runnable
        return runnable
    return _LangGraphRunnable(runnable, CONFIG_KEY_RUNTIME, DEFAULT_RUNTIME)
