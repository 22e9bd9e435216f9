"""``Runtime``: what a node may use besides its state, as in ``langgraph.runtime``.

A node (or a route) that has a parameter named ``runtime`` gets the run's
:class:`Runtime`: the ``context`` given to ``invoke(..., context=...)`` (shaped
by ``StateGraph(..., context_schema=...)``), the graph's ``store``, and a
``stream_writer`` whose chunks the caller receives with ``stream_mode="custom"``.
Parameters named ``writer`` and ``store`` get those two directly.
:func:`get_runtime` returns it from anywhere inside a running node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ._context import current_task

__all__ = ["Runtime", "get_runtime"]

ContextT = TypeVar("ContextT")


def _no_writer(chunk: Any) -> None:
    """The stream writer of a run that does not stream ``custom`` chunks."""


@dataclasses.dataclass(frozen=True)
class Runtime(Generic[ContextT]):
    """Run-scoped things a node may use.

    Attributes:
        context: what the caller passed as ``context=`` (None if nothing).
        store: the graph's store (``compile(store=...)``), or None.
        stream_writer: ``writer(chunk)`` sends ``chunk`` to ``stream_mode="custom"``.
        previous: the entrypoint's previous return value (functional API), or None.
    """

    context: ContextT = None  # type: ignore[assignment]
    store: Any = None
    stream_writer: Callable[[Any], None] = _no_writer
    previous: Any = None

    def override(self, **changes: Any) -> Runtime[ContextT]:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


def get_runtime(context_schema: type[ContextT] | None = None) -> Runtime[ContextT]:
    """The :class:`Runtime` of the node that is running.

    Raises:
        NotInNodeError: called outside a running node.
    """
    return current_task("get_runtime()").runtime
