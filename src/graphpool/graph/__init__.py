"""``graphpool.graph``: the names ``langgraph.graph`` offers, for drop-in imports.

``add_messages``, ``MessagesState`` and ``REMOVE_ALL_MESSAGES`` live in
:mod:`graphpool.graph.message` and need langchain-core; they are loaded on first
access, so importing this package does not need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._builder import StateGraph
from .._compiled import CompiledStateGraph
from .._constants import END, START

if TYPE_CHECKING:
    from .message import REMOVE_ALL_MESSAGES, MessagesState, add_messages

__all__ = [
    "END",
    "REMOVE_ALL_MESSAGES",
    "START",
    "CompiledStateGraph",
    "MessagesState",
    "StateGraph",
    "add_messages",
]

_FROM_MESSAGE = frozenset({"REMOVE_ALL_MESSAGES", "MessagesState", "add_messages"})


def __getattr__(name: str) -> Any:
    if name in _FROM_MESSAGE:
        from . import message

        return getattr(message, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
