"""Error handlers: ``add_node(..., error_handler=fn)`` and ``set_node_defaults(error_handler=fn)``.

When a node's attempts are used up (its retry policy gave up), the run does not
fail: in the same step a task of the node's handler runs instead, with the state
the failed task had, and its writes and routes (a ``Command(goto=...)``) count in
place of the node's, as LangGraph's. A handler parameter annotated
:class:`~graphpool.errors.NodeError` receives the failure (``.node``, ``.error``).
A handler that raises fails the run; handlers have no handlers.

Each handler is a hidden node of the compiled graph, named as LangGraph names it:
``__error_handler__<node>``, and ``__default_error_handler__`` for the default.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from ._context import current_task
from ._node import Callee, NodeSpec
from .errors import InvalidGraphError, NodeError

__all__ = ["DEFAULT_HANDLER", "handler_name", "handler_specs", "is_handler"]

DEFAULT_HANDLER = "__default_error_handler__"
_PREFIX = "__error_handler__"


def handler_name(node: str) -> str:
    """The hidden node that handles ``node``'s failures (its own handler)."""
    return f"{_PREFIX}{node}"


def is_handler(name: str) -> bool:
    return name == DEFAULT_HANDLER or name.startswith(_PREFIX)


def handler_specs(
    nodes: Mapping[str, NodeSpec], own: Mapping[str, Any], default: Any
) -> tuple[dict[str, NodeSpec], dict[str, str]]:
    """The handler nodes to add, and which handler each node's failures go to.

    Raises:
        InvalidGraphError: a node of the graph has a handler's name.
    """
    specs: dict[str, NodeSpec] = {}
    routes: dict[str, str] = {}
    for node, fn in own.items():
        specs[handler_name(node)] = _spec(handler_name(node), fn)
        routes[node] = handler_name(node)
    if default is not None:
        specs[DEFAULT_HANDLER] = _spec(DEFAULT_HANDLER, default)
        for node in nodes:
            routes.setdefault(node, DEFAULT_HANDLER)
    clash = sorted(set(specs) & set(nodes))
    if clash:
        raise InvalidGraphError(
            f"Node name {clash[0]!r} is taken by an error handler; rename the node."
        )
    return specs, routes


def _spec(name: str, fn: Any) -> NodeSpec:
    if not callable(fn):
        raise InvalidGraphError(f"error_handler={fn!r}: pass a function (state[, error]).")
    return NodeSpec(name=name, callee=Callee.of(_with_failure(fn)))


def _with_failure(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its ``NodeError``-annotated parameter filled from the running task."""
    try:
        signature = inspect.signature(fn)
        hints = typing.get_type_hints(fn)
    except (TypeError, ValueError, NameError):
        return fn
    wanted = [p.name for p in signature.parameters.values() if hints.get(p.name) is NodeError]
    if not wanted:
        return fn
    name = wanted[0]
    kept = [p for p in signature.parameters.values() if p.name != name]

    def failure() -> NodeError:
        return getattr(current_task("an error handler"), "failure")  # noqa: B009

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def handle_async(*args: Any, **kwargs: Any) -> Any:
            return await fn(*args, **{**kwargs, name: failure()})

        wrapper: Callable[..., Any] = handle_async
    else:

        @functools.wraps(fn)
        def handle(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **{**kwargs, name: failure()})

        wrapper = handle
    wrapper.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    return wrapper
