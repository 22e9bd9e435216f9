"""Conditional edges: a route function, its optional path map, and what it returns."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Literal, get_args, get_origin, get_type_hints

from ._constants import END, START
from ._lc import is_runnable
from ._node import Callee
from ._schema import Schema
from .errors import InvalidGraphError, InvalidNodeError, InvalidRouteError, InvalidUpdateError
from .types import Send

__all__ = ["Branch"]


def _literal_targets(fn: Any) -> dict[Hashable, str] | None:
    """Targets declared as ``-> Literal["a", "b"]`` on the route function."""
    candidates = [fn, getattr(fn, "__call__", None)]  # noqa: B004
    if is_runnable(fn):  # RunnableLambda: the wrapped function's annotation
        candidates = [getattr(fn, "func", None) or getattr(fn, "afunc", None)]
    for target in candidates:
        try:
            hint = get_type_hints(target).get("return")
        except Exception:
            continue
        if get_origin(hint) is Literal:
            return {name: name for name in get_args(hint)}
    return None


def _annotated_state(fn: Any) -> type[Any] | None:
    """The class the route's first parameter is annotated with, if it declares keys."""
    if is_runnable(fn):
        fn = getattr(fn, "func", None) or getattr(fn, "afunc", None)
    if not inspect.isfunction(fn) and not inspect.ismethod(fn):
        fn = getattr(fn, "__call__", None)  # noqa: B004
        if not inspect.ismethod(fn):
            return None
    try:
        hints = get_type_hints(fn)
        first = next(iter(inspect.signature(fn).parameters))
    except (TypeError, ValueError, NameError, StopIteration):
        return None
    hint = hints.get(first)
    try:
        if isinstance(hint, type) and get_type_hints(hint):
            return hint
    except (TypeError, NameError):
        pass
    return None


@dataclasses.dataclass(frozen=True)
class Branch:
    """One ``add_conditional_edges`` call.

    ``ends`` maps what the route returns to node names; None means the route
    returns node names (or ``Send`` objects) directly.
    """

    source: str
    name: str
    path: Callee
    ends: Mapping[Hashable, str] | None
    # the state class the route's first parameter is annotated with: the route reads
    # the state as that schema (else as its source node does), as LangGraph's
    input_schema: Schema | None = None

    @classmethod
    def create(
        cls,
        source: str,
        name: str,
        path: Any,
        path_map: Mapping[Hashable, str] | Sequence[str] | None,
    ) -> Branch:
        if not (callable(path) or is_runnable(path)):
            raise InvalidNodeError(
                f"The route of conditional edges from {source!r} must be callable, got {path!r}."
            )
        if path_map is None:
            ends = _literal_targets(path)
        elif isinstance(path_map, Mapping):
            ends = dict(path_map)
        elif isinstance(path_map, (list, tuple, set, frozenset)):
            ends = {name: name for name in path_map}
        else:
            raise InvalidGraphError(
                f"path_map of conditional edges from {source!r} must be a dict or a list "
                f"of node names, got {path_map!r}."
            )
        given = _annotated_state(path)
        return cls(source, name, Callee.of(path), ends, Schema(given) if given else None)

    def destinations(self, result: Any) -> list[str | Send]:
        """Turn what the route returned into node names and Sends (``END`` kept)."""
        items = list(result) if isinstance(result, (list, tuple)) else [result]
        out: list[str | Send] = []
        for item in items:
            if isinstance(item, Send):
                if item.node == END:
                    raise InvalidUpdateError(
                        f"Route {self.name!r} from {self.source!r} sent a packet to END; "
                        "Send must name a node."
                    )
                out.append(item)
                continue
            if self.ends is not None:
                try:
                    item = self.ends[item]
                except (KeyError, TypeError):
                    raise InvalidRouteError(
                        f"Route {self.name!r} from node {self.source!r} returned {item!r}, "
                        f"which is not in its path_map (keys: {list(self.ends)!r})."
                    ) from None
            if item is None or item == START or not isinstance(item, str):
                raise InvalidRouteError(
                    f"Route {self.name!r} from node {self.source!r} returned {item!r}; it "
                    "must return a node name, END, a Send, or a list of those."
                )
            out.append(item)
        return out
