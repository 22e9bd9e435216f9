"""Channels: one per state key, holding its value and deciding how writes merge.

A key without a reducer is a :class:`LastValue`: at most one write per step.
A key declared ``Annotated[T, reducer]`` is a :class:`Reduced`: every write of a
step is folded in, in the step's deterministic task order. A key declared with
LangGraph's ``DeltaChannel(reducer)`` is a :class:`Batched`: its reducer takes a
step's writes in one call.
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, get_origin

from .errors import InvalidUpdateError, ReducerError
from .types import Overwrite

__all__ = ["MISSING", "BatchReducer", "Batched", "Channel", "LastValue", "Reduced"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()
"""The value of a channel that was never written (its key is absent from the state)."""


class Channel:
    """Base: a named slot with a value or :data:`MISSING`."""

    __slots__ = ("key", "value")

    def __init__(self, key: str) -> None:
        self.key = key
        self.value: Any = MISSING

    def update(self, values: Sequence[Any], writers: Sequence[str] = ()) -> None:
        """Apply the writes one step made to this key, in task order.

        ``writers[i]``, when given, is the node that wrote ``values[i]``: errors
        name it.

        Raises:
            InvalidUpdateError: the writes cannot be applied: several writes to a
                key without a reducer, or the reducer raised (:class:`ReducerError`,
                the reducer's exception chained as ``__cause__``).
        """
        raise NotImplementedError

    def copy(self) -> Channel:
        new = object.__new__(type(self))
        for cls in type(self).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                setattr(new, slot, getattr(self, slot))
        return new

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r}, value={self.value!r})"


class LastValue(Channel):
    """A key without a reducer: one write per step, the new value replaces the old."""

    __slots__ = ()

    def update(self, values: Sequence[Any], writers: Sequence[str] = ()) -> None:
        if len(values) != 1:
            raise InvalidUpdateError(
                f"At key {self.key!r}: Can receive only one value per step, got "
                f"{len(values)}{_from(writers)}. Declare the key as Annotated[type, reducer] "
                "to merge writes from parallel nodes."
            )
        value = values[0]
        if type(value) is int or type(value) is str:  # the common plain values: no call
            self.value = value
            return
        overwrite = _overwrite(value)
        self.value = value if overwrite is None else overwrite.value


def _initial_value(typ: Any) -> Any:
    """LangGraph's start value for a reduced key: ``typ()`` when that works."""
    try:
        base = _BASES[typ]
    except Exception:  # not seen yet (or a type that cannot be a dict key)
        base = _base_of(typ)
        try:
            _BASES[typ] = base
        except Exception:
            pass
    try:
        return base()
    except Exception:
        return MISSING


def _base_of(typ: Any) -> Any:
    """What builds a reduced key's start value: its type, or its generic's origin."""
    base = get_origin(typ) or typ
    if base in (collections.abc.Sequence, collections.abc.MutableSequence):
        return list
    if base in (collections.abc.Set, collections.abc.MutableSet):
        return set
    if base in (collections.abc.Mapping, collections.abc.MutableMapping):
        return dict
    return base


_BASES: dict[Any, Any] = {}  # _base_of by type: every run starts its reduced keys anew


class Reduced(Channel):
    """A key with a reducer ``fn(current, write) -> new``.

    It starts at ``typ()`` when the type can be built without arguments (``[]``
    for ``list``, ``0`` for ``int``), as in LangGraph, else as missing; then the
    first write is taken as is.
    """

    __slots__ = ("reducer", "typ")

    def __init__(self, key: str, typ: Any, reducer: Callable[[Any, Any], Any]) -> None:
        self.key = key  # (Channel.__init__, inline: one of these a reduced key a run)
        self.typ = typ
        self.reducer = reducer
        self.value = _initial_value(typ)

    def update(self, values: Sequence[Any], writers: Sequence[str] = ()) -> None:
        overwritten = False
        for i, value in enumerate(values):
            overwrite = _overwrite(value)
            if overwrite is not None:
                value = overwrite
                if overwritten:
                    raise InvalidUpdateError(
                        f"At key {self.key!r}: Can receive only one Overwrite value per "
                        f"super-step{_from(writers)}."
                    )
                self.value = value.value
                overwritten = True
            elif overwritten:
                continue
            elif self.value is MISSING:
                self.value = value
            else:
                try:
                    self.value = self.reducer(self.value, value)
                except Exception as exc:
                    raise self._reducer_failed(exc, value, writers[i : i + 1]) from exc

    def _reducer_failed(self, exc: Exception, value: Any, writer: Sequence[str]) -> ReducerError:
        name = getattr(self.reducer, "__name__", None) or repr(self.reducer)
        by = f"node {writer[0]!r}" if writer else "a node"
        return ReducerError(
            f"At key {self.key!r}: the reducer {name}() failed on the value {by} wrote "
            f"({type(value).__name__}, current value {type(self.value).__name__}): "
            f"{type(exc).__name__}: {exc}"
        )


class BatchReducer(NamedTuple):
    """A reducer ``fn(current, [write, ...]) -> new`` that takes a step's writes at
    once (what ``Annotated[T, DeltaChannel(fn)]`` declares)."""

    fn: Callable[[Any, list[Any]], Any]


class Batched(Reduced):
    """A key whose reducer takes all of a step's writes in one call, as LangGraph's
    ``DeltaChannel``: it starts at ``typ()``, as :class:`Reduced` does; an
    ``Overwrite`` among the writes replaces the value and the others are dropped.

    (LangGraph stores such a key as deltas to replay; graphpool's checkpoints hold
    whole values, so only the reducer's batching shows.)
    """

    __slots__ = ()

    def update(self, values: Sequence[Any], writers: Sequence[str] = ()) -> None:
        if not values:
            return
        overwrites = [o for o in map(_overwrite, values) if o is not None]
        if len(overwrites) > 1:
            raise InvalidUpdateError(
                f"At key {self.key!r}: Can receive only one Overwrite value per "
                f"super-step{_from(writers)}."
            )
        if overwrites:
            value = overwrites[0].value
            self.value = copy.copy(value) if value is not None else _initial_value(self.typ)
            return
        base = _initial_value(self.typ) if self.value is MISSING else self.value
        try:
            self.value = self.reducer(base, list(values))
        except Exception as exc:
            raise self._reducer_failed(exc, values[-1], writers[-1:]) from exc


def _overwrite(value: Any) -> Overwrite | None:
    """``value`` as an Overwrite: one itself, or its JSON form ``{"__overwrite__": v}``
    (what a client that cannot send Python objects writes), as LangGraph reads it."""
    if isinstance(value, Overwrite):
        return value
    if type(value) is dict and len(value) == 1 and OVERWRITE in value:
        return Overwrite(value[OVERWRITE])
    return None


OVERWRITE = "__overwrite__"


def _from(writers: Sequence[str]) -> str:
    """`` (from nodes 'a', 'b')``, or nothing when the writers are not known."""
    names = sorted(set(writers))
    if not names:
        return ""
    return f" (from {'node' if len(names) == 1 else 'nodes'} {', '.join(map(repr, names))})"
