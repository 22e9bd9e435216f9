"""The checkpoint serializer: JSON with type tags, safe to load from untrusted storage.

Every saver stores checkpoints and task writes as UTF-8 JSON produced here.
JSON's own types are written as they are; everything else is an object with a
``"$t"`` tag:

===================  ====================================================================
value                stored as
===================  ====================================================================
None, bool, int, str JSON null, true/false, number, string
float                JSON number; ``nan``, ``inf``, ``-inf`` as ``{"$t": "float", "v": "nan"}``
list                 JSON array
dict                 JSON object if every key is a str and none is ``"$t"``; else
                     ``{"$t": "dict", "v": [[key, value], ...]}``
tuple, set,          ``{"$t": "tuple", "v": [...]}`` (``"set"``, ``"frozenset"``)
frozenset
bytes, bytearray     ``{"$t": "bytes", "v": "<base64>"}`` (``"bytearray"``)
datetime, date,      ``{"$t": "datetime", "v": "<ISO 8601>"}`` (``"date"``, ``"time"``); a
time                 ``zoneinfo`` timezone adds ``"tz": "<IANA key>"``
timedelta            ``{"$t": "timedelta", "v": [days, seconds, microseconds]}``
Decimal, UUID        ``{"$t": "decimal", "v": "<str>"}`` (``"uuid"``)
Enum member          ``{"$t": "enum", "cls": "module:Qual.Name", "v": value}``
dataclass            ``{"$t": "dataclass", "cls": ..., "v": {field: value}}``
pydantic model       ``{"$t": "pydantic", "cls": ..., "v": {field: value}, "set": [fields set]}``;
                     one whose class is defined inside a function: its fields, as a dict
NamedTuple           ``{"$t": "namedtuple", "cls": ..., "v": [...]}``
Send, Overwrite,     ``{"$t": "send", "node": ..., "arg": ...}``, ``{"$t": "overwrite", "v": ...}``,
Interrupt            ``{"$t": "interrupt", "v": ..., "id": ...}`` (+ ``"schema"``)
===================  ====================================================================

Types are matched exactly: a subclass of ``dict``, ``list`` or ``str`` (say a
``defaultdict``) is refused rather than silently stored as its base type.
A pydantic model whose class is defined inside a function cannot be found
again on load, so it is stored as the dict of its fields: it loads as that
dict, as LangGraph's serializer loads such a model (a pydantic state validates
it back into the model). Anything else (a lock, a file, another class defined
inside a function) is refused when it is *saved*, with a
:class:`~graphpool.errors.SerializationError` that names where the value sits
(``log[2].when``), so a run fails at the step that produced it rather than at a
later resume.

Loading (:mod:`graphpool.checkpoint._load`) never unpickles, never imports and
never calls arbitrary code: a class named in a ``"cls"`` field is looked up in
modules that are *already imported* (``sys.modules``; ``allowed_modules`` lists
modules it may import), through their ``__dict__`` only (a package's lazy
``__getattr__`` is never triggered), and must be the kind its tag says (a
dataclass, a pydantic model, an ``Enum``, a ``NamedTuple``). Dataclasses and
pydantic models are rebuilt field by field without running
``__init__``/``__post_init__`` or validators, so a loaded value is the value that
was saved. A malformed document raises :class:`~graphpool.errors.SerializationError`
and nothing else.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..errors import SerializationError
from ..types import Interrupt, Overwrite, Send
from ._load import Decoder

__all__ = ["JsonSerializer", "Serializer"]

TAG = "$t"


class Serializer(Protocol):
    """What a saver needs from a serializer: bytes out, the same value back."""

    def dumps(self, obj: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class _Unsupported(Exception):
    """Raised deep in the encoder; collects the path to the value on its way up."""

    def __init__(self, value: Any, why: str) -> None:
        super().__init__(why)
        self.value = value
        self.why = why
        self.path: list[str] = []


def _class_path(cls: type) -> str:
    qualname = cls.__qualname__
    if "<locals>" in qualname:
        raise _Unsupported(
            cls,
            "its class is defined inside a function and could not be found again on load; "
            "define it at module level",
        )
    return f"{cls.__module__}:{qualname}"


def _is_pydantic(obj: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(obj, pydantic.BaseModel)


class JsonSerializer:
    """The default serializer; see the module docstring for the format.

    Args:
        allowed_modules: modules (or package prefixes, e.g. ``"myapp"``) that
            ``loads`` may import to find a class named in stored data. By
            default only modules already imported are searched.
    """

    def __init__(self, allowed_modules: Iterable[str] = ()) -> None:
        self.allowed_modules = tuple(allowed_modules)
        self._decoder = Decoder(self.allowed_modules)
        self._encoders: dict[type, Callable[[Any], Any]] = {
            tuple: lambda v: {TAG: "tuple", "v": [self._enc(x) for x in v]},
            set: lambda v: {TAG: "set", "v": [self._enc(x) for x in v]},
            frozenset: lambda v: {TAG: "frozenset", "v": [self._enc(x) for x in v]},
            bytes: lambda v: {TAG: "bytes", "v": base64.b64encode(v).decode("ascii")},
            bytearray: lambda v: {TAG: "bytearray", "v": base64.b64encode(v).decode("ascii")},
            dt.datetime: _enc_datetime,
            dt.date: lambda v: {TAG: "date", "v": v.isoformat()},
            dt.time: lambda v: {TAG: "time", "v": v.isoformat()},
            dt.timedelta: lambda v: {TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]},
            decimal.Decimal: lambda v: {TAG: "decimal", "v": str(v)},
            uuid.UUID: lambda v: {TAG: "uuid", "v": str(v)},
            Send: lambda v: {TAG: "send", "node": v.node, "arg": self._enc(v.arg)},
            Overwrite: lambda v: {TAG: "overwrite", "v": self._enc(v.value)},
            Interrupt: self._enc_interrupt,
        }

    def _enc_interrupt(self, v: Interrupt) -> dict[str, Any]:
        out = {TAG: "interrupt", "v": self._enc(v.value), "id": v.id}
        if v.response_schema is not None:
            out["schema"] = self._enc(v.response_schema)
        return out

    def __repr__(self) -> str:
        return f"JsonSerializer(allowed_modules={list(self.allowed_modules)!r})"

    # -- saving ------------------------------------------------------------------

    def dumps(self, obj: Any) -> bytes:
        """Encode ``obj``; raises SerializationError naming where an unsupported value is."""
        try:
            encoded = self._enc(obj)
        except _Unsupported as exc:
            path = "".join(reversed(exc.path))
            where = f"the value at {path}" if path else "the value"
            value = exc.value
            kind = value if isinstance(value, type) else type(value)  # _class_path's: a class
            name = kind.__qualname__.rpartition("<locals>.")[2]
            raise SerializationError(
                f"{where} (a {name}) cannot be stored: {exc.why}. "
                "Checkpoints hold JSON types, tuples, sets, bytes, datetimes, decimals, UUIDs, "
                "enums, dataclasses, pydantic models and NamedTuples."
            ) from None
        return json.dumps(encoded, ensure_ascii=False, separators=(",", ":")).encode()

    def _enc(self, v: Any) -> Any:
        cls = type(v)
        if cls is str or cls is bool or v is None:
            return v
        if cls is int:
            return v if v.bit_length() <= _SAFE_INT_BITS else _enc_int(v)
        if cls is float:
            return v if math.isfinite(v) else {TAG: "float", "v": repr(v)}
        if cls is list:
            out = []
            for i, item in enumerate(v):
                try:
                    out.append(self._enc(item))
                except _Unsupported as exc:
                    exc.path.append(f"[{i}]")
                    raise
            return out
        if cls is dict:
            return self._enc_dict(v)
        encoder = self._encoders.get(cls)
        if encoder is not None:
            return encoder(v)
        return self._enc_object(v)

    def _enc_dict(self, v: dict[Any, Any]) -> Any:
        plain = TAG not in v and all(type(k) is str for k in v)
        out: Any = {} if plain else []
        for key, item in v.items():
            try:
                if plain:
                    out[key] = self._enc(item)
                else:
                    out.append([self._enc(key), self._enc(item)])
            except _Unsupported as exc:
                exc.path.append(f"[{key!r}]")
                raise
        return out if plain else {TAG: "dict", "v": out}

    def _enc_fields(self, items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
        out = {}
        for name, item in items:
            try:
                out[name] = self._enc(item)
            except _Unsupported as exc:
                exc.path.append(f".{name}")
                raise
        return out

    def _enc_object(self, v: Any) -> Any:
        cls = type(v)
        if isinstance(v, enum.Enum):
            return {TAG: "enum", "cls": _class_path(cls), "v": self._enc(v.value)}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            fields = ((f.name, getattr(v, f.name)) for f in dataclasses.fields(v))
            return {TAG: "dataclass", "cls": _class_path(cls), "v": self._enc_fields(fields)}
        if _is_pydantic(v):
            names = list(type(v).model_fields)
            values = [(n, getattr(v, n)) for n in names]
            values += list((v.model_extra or {}).items())
            if "<locals>" in cls.__qualname__:  # not found again on load: its fields
                return self._enc_dict(dict(values))
            return {
                TAG: "pydantic",
                "cls": _class_path(cls),
                "v": self._enc_fields(values),
                "set": sorted(v.model_fields_set),
            }
        if isinstance(v, tuple) and hasattr(cls, "_fields"):
            items = self._enc_fields(zip(cls._fields, v, strict=True))
            return {TAG: "namedtuple", "cls": _class_path(cls), "v": list(items.values())}
        if isinstance(v, str):  # a str subclass (say, a message's ``.text``): its text
            return str(v)
        raise _Unsupported(v, "this type is not supported by graphpool's checkpoint serializer")

    # -- loading ------------------------------------------------------------------

    def loads(self, data: bytes | str) -> Any:
        """Decode what :meth:`dumps` wrote; never unpickles, and never imports by default.

        Raises:
            SerializationError: the data is not a document :meth:`dumps` could
                have written (see :mod:`graphpool.checkpoint._load`); nothing else.
        """
        try:
            return json.loads(data, object_hook=self._decoder)
        except SerializationError:
            raise
        except RecursionError as exc:
            raise SerializationError(
                "Stored checkpoint data is nested too deeply to load (deeper than Python's "
                f"recursion limit, {sys.getrecursionlimit()})."
            ) from exc
        except Exception as exc:  # anything else a malformed document makes json raise
            raise SerializationError(
                f"Stored checkpoint data is malformed: {type(exc).__name__}: {exc}"
            ) from exc


_SAFE_INT_BITS = 3 * 640  # 640: the lowest digit limit Python accepts


def _enc_int(v: int) -> int:
    """``v``, if JSON can carry it: Python refuses to print (and json to write or
    read) an int of more than ``sys.get_int_max_str_digits()`` digits."""
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()  # 3.10 before 3.10.7: none
    if limit and v.bit_length() > 3 * limit:  # 3 bits < 1 decimal digit: no false alarm
        try:
            str(v)
        except ValueError:
            raise _Unsupported(
                v,
                f"it has more than {limit} digits, Python's limit for converting an int to "
                "text (sys.set_int_max_str_digits); store it as a str or bytes",
            ) from None
    return v


def _enc_datetime(v: dt.datetime) -> dict[str, Any]:
    out = {TAG: "datetime", "v": v.isoformat()}
    key = getattr(v.tzinfo, "key", None)
    if isinstance(key, str):
        out["tz"] = key
    return out
