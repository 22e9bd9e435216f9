"""What a running node can ask for, as in ``langgraph.config``.

Each function finds the node that is running in this thread or coroutine
(``_context.CURRENT``), so it works in any function the node calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._context import current_task

__all__ = ["get_config", "get_store", "get_stream_writer"]


def get_config() -> dict[str, Any]:
    """The config the running node received (``configurable``, ``metadata`` with
    ``langgraph_node`` and ``langgraph_step``, ...).

    Raises:
        NotInNodeError: called outside a running node.
    """
    return current_task("get_config()").config


def get_store() -> Any:
    """The graph's store (``compile(store=...)``), or None."""
    return current_task("get_store()").runtime.store


def get_stream_writer() -> Callable[[Any], None]:
    """A function that sends a chunk to the caller's ``stream_mode="custom"``
    (a no-op when the caller does not stream that mode)."""
    return current_task("get_stream_writer()").runtime.stream_writer
