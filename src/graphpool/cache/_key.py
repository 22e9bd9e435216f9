"""Cache keys for node results: a stable digest of a node's input, and a node's namespace.

The default key must be the same for equal inputs in every process and every
run (so a SQLite cache is useful across restarts), so it never uses ``hash()``
(salted per process) nor pickle (whose bytes depend on object identity and
protocol details). Instead the input is written in a canonical form, each value
with a type tag, and hashed with BLAKE2b:

* ``None``, bools, ints, floats, strings and bytes as themselves, with their type
  (``1``, ``1.0`` and ``True`` give different keys);
* lists and tuples alike (as LangGraph's default does), dicts with their items
  sorted, so ``{"a": 1, "b": 2}`` and ``{"b": 2, "a": 1}`` agree; sets sorted;
* dataclasses, pydantic models (LangChain messages), NamedTuples and enums as
  their class and fields; dates, times, decimals, UUIDs and paths as their
  class and text; arrays with ``tobytes()`` (numpy) as their dtype, shape and bytes;
* other objects as their class and ``vars()``.

What cannot be written this way (a lock, a socket, a cycle) raises
:class:`~graphpool.errors.SerializationError` naming where it is: give the
policy a ``key_func`` that picks what matters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import functools
import hashlib
import pathlib
import sys
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidConfigError, SerializationError

__all__ = ["canonical_key", "digest", "node_namespace"]

NODE_NS = "__graphpool_node__"
_TEXT_TYPES = (
    dt.datetime,
    dt.date,
    dt.time,
    dt.timedelta,
    decimal.Decimal,
    uuid.UUID,
    pathlib.PurePath,
)


class _Unhashable(Exception):
    def __init__(self, value: Any, why: str) -> None:
        super().__init__(why)
        self.value = value
        self.why = why
        self.path: list[str] = []


def _class(cls: type) -> bytes:
    return f"{cls.__module__}:{cls.__qualname__}".encode()


def _sized(tag: bytes, data: bytes) -> bytes:
    return tag + str(len(data)).encode() + b":" + data


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self._open: set[int] = set()

    def write(self, v: Any) -> None:
        cls = type(v)
        if v is None:
            self.parts.append(b"N")
        elif cls is bool:
            self.parts.append(b"T" if v else b"F")
        elif cls is int:
            self.parts.append(b"i" + str(v).encode() + b";")
        elif cls is float:
            self.parts.append(b"f" + v.hex().encode() + b";")
        elif cls is str:
            self.parts.append(_sized(b"s", v.encode("utf-8", "surrogatepass")))
        elif cls in (bytes, bytearray, memoryview):
            self.parts.append(_sized(b"b", bytes(v)))
        else:
            self._container(v)

    def _container(self, v: Any) -> None:
        if id(v) in self._open:
            raise _Unhashable(v, "it contains itself")
        self._open.add(id(v))
        try:
            self._compound(v)
        finally:
            self._open.discard(id(v))

    def _nested(self, label: str, v: Any) -> None:
        try:
            self.write(v)
        except _Unhashable as exc:
            exc.path.append(label)
            raise

    def _sorted(self, items: list[tuple[str, tuple[Any, ...]]]) -> list[bytes]:
        """Each item's values written apart, then sorted: an order-free encoding."""
        out = []
        for label, values in items:
            sub = _Writer()
            sub._open = self._open
            for value in values:
                sub._nested(label, value)
            out.append(b"".join(sub.parts))
        return sorted(out)

    def _fields(self, cls: type, items: list[tuple[str, Any]]) -> None:
        self.parts.append(_sized(b"o", _class(cls)) + b"(")
        for name, item in items:
            self.parts.append(_sized(b"s", name.encode()))
            self._nested(f".{name}", item)
        self.parts.append(b")")

    def _compound(self, v: Any) -> None:
        cls = type(v)
        if isinstance(v, (list, tuple)) and not hasattr(cls, "_fields"):
            self.parts.append(b"[")
            for i, item in enumerate(v):
                self._nested(f"[{i}]", item)
            self.parts.append(b"]")
        elif isinstance(v, Mapping):
            pairs = self._sorted([(f"[{k!r}]", (k, x)) for k, x in v.items()])  # key, value
            self.parts += [b"{", *pairs, b"}"]
        elif isinstance(v, (set, frozenset)):
            self.parts += [b"<", *self._sorted([("{...}", (x,)) for x in v]), b">"]
        elif isinstance(v, enum.Enum):
            self._fields(cls, [("value", v.value)])
        elif isinstance(v, _TEXT_TYPES):
            self.parts.append(_sized(b"o", _class(cls)) + _sized(b"s", str(v).encode()))
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            self._fields(cls, [(f.name, getattr(v, f.name)) for f in dataclasses.fields(v)])
        elif _is_pydantic(v):
            extra = sorted((getattr(v, "model_extra", None) or {}).items())
            self._fields(cls, [(n, getattr(v, n)) for n in type(v).model_fields] + extra)
        elif isinstance(v, tuple):  # a NamedTuple
            self._fields(cls, list(zip(cls._fields, v, strict=False)))
        elif callable(getattr(v, "tobytes", None)):
            shape = getattr(v, "shape", None)
            meta = f"{getattr(v, 'dtype', '')}|{shape}".encode()
            self.parts.append(_sized(b"a", _class(cls) + b"|" + meta) + _sized(b"b", v.tobytes()))
        elif hasattr(v, "__dict__") and not isinstance(v, type) and not callable(v):
            self._fields(cls, sorted(vars(v).items()))
        else:
            raise _Unhashable(v, "its type has no stable form")


def _is_pydantic(v: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(v, pydantic.BaseModel)


def canonical_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The default cache key of a call's arguments: a hex BLAKE2b digest of their
    canonical form (see the module docstring).

    Raises:
        SerializationError: an argument holds a value with no stable form; the
            message names where it is.
    """
    writer = _Writer()
    try:
        writer.write(list(args))
        writer.write(kwargs)
    except _Unhashable as exc:
        if len(args) == 1 and not kwargs and exc.path:
            exc.path[-1] = ""  # a node's one input: "input['docs'][2]", not "input[0]['docs']..."
        path = "".join(reversed(exc.path))
        raise SerializationError(
            f"CachePolicy's default key cannot use the value at input{path} "
            f"(a {type(exc.value).__qualname__}): {exc.why}. Give the policy a key_func "
            "that returns a str or bytes made from what matters."
        ) from None
    return hashlib.blake2b(b"".join(writer.parts), digest_size=16).hexdigest()


def digest(key: Any) -> str:
    """The cache key for what a policy's ``key_func`` returned (a str or bytes)."""
    if isinstance(key, str):
        key = key.encode("utf-8", "surrogatepass")
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidConfigError(
            f"CachePolicy: key_func returned a {type(key).__name__} ({key!r}); it must return "
            "a str or bytes."
        )
    return hashlib.blake2b(bytes(key), digest_size=16).hexdigest()


def _identifier(func: Any) -> str:
    while isinstance(func, functools.partial):
        func = func.func
    func = getattr(func, "func", func)  # a RunnableCallable's function
    module = getattr(func, "__module__", None)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not module or not name:
        return "__dynamic__"
    return f"{module}.{name}"


def node_namespace(node: str, func: Callable[..., Any] | None = None) -> tuple[str, str, str]:
    """The namespace of a node's cached results: the node's name and its function,
    so a changed function (or another graph's node of the same name sharing the
    cache) never reads results that are not its own."""
    return (NODE_NS, str(node), _identifier(func) if func is not None else "__dynamic__")
