"""State schemas: which keys a graph has, their reducers, and how state is shown to nodes.

A schema is a TypedDict, a dataclass or a pydantic model (anything with type
hints). Nodes of a TypedDict graph receive a plain dict; nodes of a dataclass or
pydantic graph receive an instance built from the current values, so defaults
and validation apply, as in LangGraph.

A type without type hints (``list``, ``list[str]``, ``Annotated[list, operator.add]``)
makes the whole state one value, as LangGraph's root channel: it is kept under the
key :data:`ROOT`, nodes receive the value itself and return the new one (reduced
when the type is ``Annotated`` with a reducer), and the graph outputs the value.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import sys
from collections.abc import Callable, Collection, Iterable
from typing import Annotated, Any, ClassVar, get_args, get_origin, get_type_hints

from typing_extensions import NotRequired, ReadOnly, Required

from ._channels import MISSING, Batched, BatchReducer, Channel, LastValue, Reduced
from ._constants import START
from .errors import InvalidGraphError, InvalidUpdateError
from .managed import ManagedValue, manager_of

__all__ = ["ROOT", "Schema", "annotated_input"]

ROOT = "__root__"
"""The one key of a state that is a single value (LangGraph's root channel name)."""

logger = logging.getLogger("graphpool")

_WRAPPERS = (Required, NotRequired, ReadOnly)


def _strip(typ: Any) -> Any:
    """Remove ``Required``/``NotRequired``/``ReadOnly`` wrappers."""
    while get_origin(typ) in _WRAPPERS:
        typ = get_args(typ)[0]
    return typ


def _reducer_of(key: str, typ: Any) -> tuple[Any, Callable[[Any, Any], Any] | BatchReducer | None]:
    """Split ``Annotated[T, ..., reducer]`` into ``(T, reducer)``."""
    typ = _strip(typ)
    if get_origin(typ) is not Annotated:
        return typ, None
    inner, *meta = get_args(typ)
    inner = _strip(inner)
    if meta and _is_delta_channel(meta[-1]):
        return inner, BatchReducer(meta[-1].reducer)
    if not meta or not callable(meta[-1]) or isinstance(meta[-1], type):
        return inner, None
    reducer = meta[-1]
    try:
        params = inspect.signature(reducer).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature, e.g. some C functions
        return inner, reducer
    positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if positional != 2:
        raise InvalidGraphError(
            f"Invalid reducer for state key {key!r}: it must take two arguments (current, "
            f"update); {getattr(reducer, '__name__', reducer)!r} has signature "
            f"{inspect.signature(reducer)}."
        )
    return inner, reducer


def _is_delta_channel(meta: Any) -> bool:
    """LangGraph's ``DeltaChannel(reducer)`` (known by its shape: graphpool does not
    import LangGraph): a reducer that takes a step's writes in one call."""
    return (
        not isinstance(meta, type)
        and callable(getattr(meta, "reducer", None))
        and hasattr(meta, "snapshot_frequency")
    )


def _is_untracked(typ: Any) -> bool:
    """Whether a key is declared ``Annotated[T, UntrackedValue]`` (LangGraph's channel
    of that name, class or instance): its value lives in the run only, and is never
    checkpointed (not in saved state, task writes or ``Send`` arguments)."""
    typ = _strip(typ)
    if get_origin(typ) is not Annotated:
        return False
    for meta in get_args(typ)[1:]:
        kind = meta if isinstance(meta, type) else type(meta)
        if kind.__name__ == "UntrackedValue":
            return True
    return False


def _is_pydantic(cls: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(cls, type) and issubclass(cls, pydantic.BaseModel)


class Schema:
    """The keys of one state class, with a builder for node input."""

    __slots__ = ("_warned", "cls", "fields", "keys", "kind", "managed", "untracked")

    fields: dict[str, tuple[Any, Callable[[Any, Any], Any] | BatchReducer | None]]
    keys: tuple[str, ...]
    managed: dict[str, type[ManagedValue]]  # keys the runtime fills in (``managed``)
    untracked: frozenset[str]  # keys annotated ``UntrackedValue``: never checkpointed
    _warned: set[tuple[str, str]]  # (node, key) of dropped writes told

    def __init__(self, cls: Any) -> None:
        self.cls = cls
        self.managed = {}
        self.untracked = frozenset()
        if cls is dict or cls is Any:
            raise InvalidGraphError(
                "StateGraph needs a state schema with declared keys (a TypedDict, dataclass "
                f"or pydantic model), got {cls!r}."
            )
        if not hasattr(cls, "__annotations__"):  # one value, as LangGraph's root channel
            self.fields = {ROOT: _reducer_of(ROOT, cls)}
            self.keys, self.kind, self._warned = (ROOT,), "root", set()
            return
        try:
            hints = get_type_hints(cls, include_extras=True)
        except Exception as exc:
            raise InvalidGraphError(
                f"Cannot read the type hints of state schema {cls!r}: {exc}"
            ) from exc
        hints = {
            key: typ
            for key, typ in hints.items()
            if not key.startswith("__") and get_origin(typ) is not ClassVar
        }
        for key, typ in hints.items():
            manager = manager_of(_strip(typ))
            if manager is not None:
                self.managed[key] = manager
        self.fields = {
            key: _reducer_of(key, typ) for key, typ in hints.items() if key not in self.managed
        }
        self.untracked = frozenset(k for k in self.fields if _is_untracked(hints[k]))
        if not self.fields and not self.managed:
            raise InvalidGraphError(f"State schema {cls!r} declares no keys.")
        self.keys = tuple(self.fields)
        self._warned = set()
        if _is_pydantic(cls):
            self.kind = "pydantic"
        elif dataclasses.is_dataclass(cls):
            self.kind = "dataclass"
        else:
            self.kind = "dict"

    def merged(self, *others: Schema) -> Schema:
        """A new schema with this one's class and the keys of all (for writes and channels).

        Always a new object, so each compiled graph warns about dropped writes
        on its own (see :meth:`known_writes`).
        """
        extra = {k: f for o in others for k, f in o.fields.items() if k not in self.fields}
        merged = object.__new__(Schema)
        merged.cls, merged.kind = self.cls, self.kind
        merged.fields = {**self.fields, **extra}
        merged.managed = {k: m for s in (self, *others) for k, m in s.managed.items()}
        merged.untracked = frozenset(k for s in (self, *others) for k in s.untracked)
        merged.keys = tuple(merged.fields)
        merged._warned = set()
        return merged

    def __repr__(self) -> str:
        return f"Schema({getattr(self.cls, '__name__', self.cls)}, keys={list(self.keys)})"

    def new_channels(self) -> dict[str, Channel]:
        """Fresh, empty channels for a run."""
        channels: dict[str, Channel] = {}
        for key, (typ, reducer) in self.fields.items():
            if reducer is None:
                channels[key] = LastValue(key)
            elif isinstance(reducer, BatchReducer):
                channels[key] = Batched(key, typ, reducer.fn)
            else:
                channels[key] = Reduced(key, typ, reducer)
        return channels

    def read(self, channels: dict[str, Channel]) -> dict[str, Any]:
        """The current values of this schema's keys that have one."""
        out = {}
        for key in self.keys:
            channel = channels.get(key)
            if channel is not None and channel.value is not MISSING:
                out[key] = channel.value
        return out

    def coerce(self, values: dict[str, Any]) -> Any:
        """What a node of this schema receives: a dict, an instance of the class, or
        (a root state) the value itself."""
        if self.kind == "dict":
            return values
        if self.kind == "root":
            return values.get(ROOT)
        return self.cls(**values)

    def shown(self, values: dict[str, Any]) -> Any:
        """The state as the graph outputs it: the dict, or (a root state) the value."""
        return values.get(ROOT) if self.kind == "root" else values

    def updates_of(self, obj: Any) -> list[tuple[str, Any]] | None:
        """The ``(key, value)`` writes in a node's return value, or None if it is not one.

        Dicts keep only this schema's keys (others are ignored, as in LangGraph).
        An instance of a class with type hints (a dataclass or pydantic state)
        writes its attributes; for pydantic, a ``None`` left at a non-None
        default is not written.
        """
        if self.kind == "root":
            return [(ROOT, obj)]
        if isinstance(obj, dict):
            return [(k, v) for k, v in obj.items() if k in self.fields]
        return self._object_updates(obj)

    def _object_updates(self, obj: Any) -> list[tuple[str, Any]] | None:
        hinted = getattr(type(obj), "__annotations__", None)
        if not hinted or isinstance(obj, (str, bytes, list, tuple)):
            return None
        keep: Iterable[str] = ()
        defaults: dict[str, Any] = {}
        if _is_pydantic(type(obj)):
            keep = obj.model_fields_set
            defaults = {k: f.default for k, f in type(obj).model_fields.items()}
        out = []
        for key in self.keys:
            value = getattr(obj, key, MISSING)
            if value is MISSING:
                continue
            if value is None and defaults.get(key, MISSING) is None and key not in keep:
                continue
            out.append((key, value))
        return out

    def writes_of(self, node: str, obj: Any) -> list[tuple[str, Any]]:
        """Like :meth:`updates_of`, raising a clear error for anything else.

        A dict's keys that are not in the schema are dropped, as LangGraph drops
        them, with a warning on the ``graphpool`` logger (see :meth:`known_writes`).
        """
        if self.kind == "root":
            return [(ROOT, obj)]
        if isinstance(obj, dict):
            return self.known_writes(node, obj.items())
        writes = self._object_updates(obj)
        if writes is None:
            raise InvalidUpdateError(
                f"Expected dict, got {obj!r}: node {node!r} must return a dict of state "
                "updates, None, or a Command."
            )
        return writes

    def known_writes(self, node: str, pairs: Collection[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The ``(key, value)`` pairs whose key is in the schema; the rest are dropped.

        The first time ``node`` writes a given unknown key, a warning on the
        ``graphpool`` logger names the node, the key and the schema: the write
        is lost (as in LangGraph), which is usually a typo or a key missing from
        the schema. The caller's own input (``node == START``) is not warned about.
        """
        fields = self.fields
        writes = [(k, v) for k, v in pairs if k in fields]
        if node != START and len(writes) != len(pairs):
            self._warn_dropped(node, pairs)
        return writes

    def _warn_dropped(self, node: str, pairs: Iterable[tuple[str, Any]]) -> None:
        for key, _ in pairs:
            if key in self.fields or (node, key) in self._warned:
                continue
            self._warned.add((node, key))
            logger.warning(
                "Node %r wrote the key %r, which is not in the state schema %s: the write is "
                "dropped (as LangGraph drops it). Declare the key in the schema to keep it.",
                node,
                key,
                getattr(self.cls, "__name__", self.cls),
            )


def annotated_input(fn: Any) -> Any:
    """The class ``fn``'s first parameter is annotated with, when it is a state schema
    (a class with type hints), as LangGraph infers a node's input schema; else None."""
    call = getattr(fn, "__call__", None)  # noqa: B004 - a callable object's method
    if not (inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.ismethod(call)):
        return None
    try:
        hints = get_type_hints(call) or get_type_hints(fn)
        if not hints:
            return None
        first = next(iter(inspect.signature(fn).parameters), None)
        hint = hints.get(first) if first is not None else None
        if isinstance(hint, type) and get_type_hints(hint):
            return hint
    except (NameError, TypeError, ValueError, AttributeError):
        return None
    return None
