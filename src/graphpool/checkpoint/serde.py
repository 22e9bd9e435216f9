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
pydantic model       ``{"$t": "pydantic", "cls": ..., "v": {field: value}, "set": [fields set]}``
NamedTuple           ``{"$t": "namedtuple", "cls": ..., "v": [...]}``
Send, Overwrite,     ``{"$t": "send", "node": ..., "arg": ...}``, ``{"$t": "overwrite", "v": ...}``,
Interrupt            ``{"$t": "interrupt", "v": ..., "id": ...}``
===================  ====================================================================

Types are matched exactly: a subclass of ``dict``, ``list`` or ``str`` (say a
``defaultdict``) is refused rather than silently stored as its base type.
Anything else (a lock, a file, a class defined inside a function) is refused
when it is *saved*, with a :class:`~graphpool.errors.SerializationError` that
names where the value sits (``log[2].when``), so a run fails at the step that
produced it rather than at a later resume.

Loading never unpickles and never calls arbitrary code: a class named in a
``"cls"`` field is looked up in modules that are *already imported*
(``sys.modules``; ``allowed_modules`` lists modules it may import), and must be
the kind its tag says (a dataclass, a pydantic model, an ``Enum``, a
``NamedTuple``). Dataclasses and pydantic models are rebuilt field by field
without running ``__init__``/``__post_init__`` or validators, so a loaded value
is the value that was saved.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import json
import math
import sys
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..errors import SerializationError
from ..types import Interrupt, Overwrite, Send

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
            Interrupt: lambda v: {TAG: "interrupt", "v": self._enc(v.value), "id": v.id},
        }

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
            raise SerializationError(
                f"{where} (a {type(exc.value).__qualname__}) cannot be stored: {exc.why}. "
                "Checkpoints hold JSON types, tuples, sets, bytes, datetimes, decimals, UUIDs, "
                "enums, dataclasses, pydantic models and NamedTuples."
            ) from None
        return json.dumps(encoded, ensure_ascii=False, separators=(",", ":")).encode()

    def _enc(self, v: Any) -> Any:
        cls = type(v)
        if cls is str or cls is int or cls is bool or v is None:
            return v
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
            return {
                TAG: "pydantic",
                "cls": _class_path(cls),
                "v": self._enc_fields(values),
                "set": sorted(v.model_fields_set),
            }
        if isinstance(v, tuple) and hasattr(cls, "_fields"):
            items = self._enc_fields(zip(cls._fields, v, strict=True))
            return {TAG: "namedtuple", "cls": _class_path(cls), "v": list(items.values())}
        raise _Unsupported(v, "this type is not supported by graphpool's checkpoint serializer")

    # -- loading -----------------------------------------------------------------

    def loads(self, data: bytes | str) -> Any:
        """Decode what :meth:`dumps` wrote; never unpickles or imports by default."""
        try:
            return json.loads(data, object_hook=self._hook)
        except SerializationError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SerializationError(f"Stored checkpoint data is malformed: {exc}") from exc

    def _hook(self, obj: dict[str, Any]) -> Any:
        tag = obj.get(TAG)
        if tag is None:
            return obj
        v: Any = obj.get("v")
        if tag == "tuple":
            return tuple(v)
        if tag == "dict":
            return {k: item for k, item in v}
        if tag == "set":
            return set(v)
        if tag == "frozenset":
            return frozenset(v)
        if tag in ("bytes", "bytearray"):
            raw = base64.b64decode(v, validate=True)
            return raw if tag == "bytes" else bytearray(raw)
        if tag == "float":
            return float(v)
        if tag == "datetime":
            return _dec_datetime(v, obj.get("tz"))
        if tag == "date":
            return dt.date.fromisoformat(v)
        if tag == "time":
            return dt.time.fromisoformat(v)
        if tag == "timedelta":
            return dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2])
        if tag == "decimal":
            return decimal.Decimal(v)
        if tag == "uuid":
            return uuid.UUID(v)
        if tag == "send":
            return Send(obj["node"], obj["arg"])
        if tag == "overwrite":
            return Overwrite(v)
        if tag == "interrupt":
            return Interrupt(v, id=obj["id"])
        return self._dec_object(tag, obj)

    def _dec_object(self, tag: str, obj: dict[str, Any]) -> Any:
        cls: Any = self._resolve(obj.get("cls"), tag)
        v = obj["v"]
        if tag == "enum":
            if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
                raise SerializationError(f"Stored enum names {obj['cls']!r}, not an Enum.")
            return cls(v)
        if tag == "namedtuple":
            if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")):
                raise SerializationError(f"Stored NamedTuple names {obj['cls']!r}, not one.")
            return cls(*v)
        if tag == "dataclass":
            if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
                raise SerializationError(f"Stored dataclass names {obj['cls']!r}, not one.")
            new = object.__new__(cls)
            for name, item in v.items():
                object.__setattr__(new, name, item)
            return new
        if tag == "pydantic":
            pydantic = sys.modules.get("pydantic")
            if pydantic is None or not (
                isinstance(cls, type) and issubclass(cls, pydantic.BaseModel)
            ):
                raise SerializationError(f"Stored model names {obj['cls']!r}, not a model.")
            model: Any = cls
            return model.model_construct(_fields_set=set(obj.get("set", v)), **v)
        raise SerializationError(f"Stored checkpoint data has an unknown type tag {tag!r}.")

    def _resolve(self, path: Any, tag: str) -> Any:
        if not isinstance(path, str) or ":" not in path:
            raise SerializationError(f"Stored {tag} has no valid class path: {path!r}.")
        module_name, qualname = path.split(":", 1)
        module = sys.modules.get(module_name)
        if module is None and any(
            module_name == m or module_name.startswith(m + ".") for m in self.allowed_modules
        ):
            module = importlib.import_module(module_name)
        if module is None:
            raise SerializationError(
                f"Stored {tag} of class {path!r}: module {module_name!r} is not imported. "
                "Import it before loading, or list it in JsonSerializer(allowed_modules=...)."
            )
        found: Any = module
        for part in qualname.split("."):
            found = getattr(found, part, None)
            if found is None:
                raise SerializationError(f"Stored {tag} of class {path!r}: no such class.")
        return found


def _enc_datetime(v: dt.datetime) -> dict[str, Any]:
    out = {TAG: "datetime", "v": v.isoformat()}
    key = getattr(v.tzinfo, "key", None)
    if isinstance(key, str):
        out["tz"] = key
    return out


def _dec_datetime(v: str, tz: str | None) -> dt.datetime:
    value = dt.datetime.fromisoformat(v)
    if tz is not None:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo(tz))
    return value
