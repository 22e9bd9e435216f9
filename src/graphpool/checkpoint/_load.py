"""Loading what :mod:`.serde` stored: every document either decodes or fails with
:class:`~graphpool.errors.SerializationError`, and never imports a module.

Stored bytes are untrusted (a shared database, a restored backup), so each tagged
object's payload is checked for the shape its tag promises before anything is
built from it, and anything a builtin constructor still raises (an overflowing
``timedelta``, a malformed ISO date, a set of unhashable items) is turned into a
:class:`SerializationError` that names the tag and the reason.

Class names in ``"cls"`` fields are resolved without running code: only modules
already in ``sys.modules`` (or listed in ``allowed_modules``) are searched, and
only through their ``__dict__``, never ``getattr``. A package's lazy
``__getattr__`` (``concurrent.futures`` imports ``ProcessPoolExecutor`` that way)
is therefore never triggered by stored data; ``tests/test_checkpoint_load.py``
checks that ``sys.modules`` is unchanged after hostile documents are refused.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import decimal
import enum
import importlib
import os
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import SerializationError
from ..types import Interrupt, Overwrite, Send

__all__ = ["Decoder"]

TAG = "$t"
_SPECIAL_FLOATS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}
# An IANA time zone key: names like "Europe/Paris", "Etc/GMT+5"; never a path.
_TZ_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Bad(SerializationError):
    """A stored value whose payload does not have the shape its tag promises."""

    def __init__(self, tag: str, obj: Any, why: str) -> None:
        super().__init__(f"Stored {tag!r} value {_short(obj)} is malformed: {why}.")


class Decoder:
    """The ``object_hook`` of :meth:`JsonSerializer.loads`: builds tagged values."""

    def __init__(self, allowed_modules: tuple[str, ...]) -> None:
        self.allowed_modules = allowed_modules
        self._decoders: dict[str, Callable[[dict[str, Any]], Any]] = {
            "tuple": lambda o: tuple(_list(o)),
            "set": lambda o: _hashed(o, set),
            "frozenset": lambda o: _hashed(o, frozenset),
            "dict": _dec_dict,
            "bytes": lambda o: _dec_bytes(o),
            "bytearray": lambda o: bytearray(_dec_bytes(o)),
            "float": _dec_float,
            "datetime": _dec_datetime,
            "date": lambda o: _built(o, dt.date.fromisoformat, _str(o)),
            "time": lambda o: _built(o, dt.time.fromisoformat, _str(o)),
            "timedelta": _dec_timedelta,
            "decimal": lambda o: _built(o, decimal.Decimal, _str(o)),
            "uuid": lambda o: _built(o, uuid.UUID, _str(o)),
            "send": lambda o: Send(_str(o, "node"), _field(o, "arg")),
            "overwrite": lambda o: Overwrite(_field(o, "v")),
            "interrupt": lambda o: Interrupt(
                _field(o, "v"), id=_str(o, "id"), response_schema=o.get("schema")
            ),
            "enum": self._dec_enum,
            "namedtuple": self._dec_namedtuple,
            "dataclass": self._dec_dataclass,
            "pydantic": self._dec_pydantic,
        }

    def __call__(self, obj: dict[str, Any]) -> Any:
        tag = obj.get(TAG)
        if tag is None:
            return obj
        decode = self._decoders.get(tag) if type(tag) is str else None
        if decode is None:
            raise SerializationError(
                f"Stored checkpoint data has an unknown type tag {_short(tag)}."
            )
        return decode(obj)

    # -- classes named in the data ---------------------------------------------------

    def _dec_enum(self, obj: dict[str, Any]) -> Any:
        cls = self._resolve(obj, "enum", lambda c: issubclass(c, enum.Enum), "an Enum")
        return _built(obj, cls, _field(obj, "v"))

    def _dec_namedtuple(self, obj: dict[str, Any]) -> Any:
        cls = self._resolve(
            obj,
            "namedtuple",
            lambda c: issubclass(c, tuple) and _defines(c, "_fields"),
            "a NamedTuple",
        )
        return _built(obj, cls, *_list(obj))

    def _dec_dataclass(self, obj: dict[str, Any]) -> Any:
        cls = self._resolve(
            obj, "dataclass", lambda c: _defines(c, "__dataclass_fields__"), "a dataclass"
        )
        values = _fields(obj, "v")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise _Bad("dataclass", obj, f"{obj['cls']} has no fields {unknown}")
        new = object.__new__(cls)
        for name, item in values.items():
            _built(obj, object.__setattr__, new, name, item)
        return new

    def _dec_pydantic(self, obj: dict[str, Any]) -> Any:
        main = sys.modules.get("pydantic.main")  # not pydantic's lazy __getattr__
        base = _class_dict(main).get("BaseModel") if _is_namespace(main) else None
        cls = self._resolve(
            obj,
            "pydantic",
            lambda c: base is not None and issubclass(c, base),
            "a pydantic model",
        )
        values = _fields(obj, "v")
        fields_set = obj.get("set", list(values))
        if not isinstance(fields_set, list) or not all(isinstance(f, str) for f in fields_set):
            raise _Bad("pydantic", obj, "'set' must be a list of field names")
        return _built(obj, cls.model_construct, _fields_set=set(fields_set), **values)

    def _resolve(
        self, obj: dict[str, Any], tag: str, is_kind: Callable[[type], bool], kind: str
    ) -> Any:
        path = obj.get("cls")
        if not isinstance(path, str) or path.count(":") != 1:
            raise SerializationError(f"Stored {tag} has no valid class path: {_short(path)}.")
        module_name, qualname = path.split(":")
        module = sys.modules.get(module_name)
        if module is None and self._may_import(module_name):
            module = importlib.import_module(module_name)
        if not _is_module(module):
            raise SerializationError(
                f"Stored {tag} of class {path!r}: module {module_name!r} is not imported. "
                "Import it before loading, or list it in JsonSerializer(allowed_modules=...)."
            )
        found: Any = module
        for part in qualname.split("."):
            # vars(), never getattr: a module's __getattr__ may import, a class's
            # metaclass may run code.
            found = _class_dict(found).get(part) if _is_namespace(found) else None
            if found is None:
                raise SerializationError(f"Stored {tag} of class {path!r}: no such class.")
        if not (_is_class(found) and is_kind(found)):
            raise SerializationError(f"Stored {tag} names {path!r}, which is not {kind}.")
        return found

    def _may_import(self, module_name: str) -> bool:
        return any(
            module_name == m or module_name.startswith(m + ".") for m in self.allowed_modules
        )


# isinstance() is not used on these objects: when the type check fails it reads
# ``__class__``, which a lazy module's ``__getattribute__`` answers by loading itself.


def _is_module(value: Any) -> bool:
    return issubclass(type(value), types.ModuleType)


def _is_class(value: Any) -> bool:
    return issubclass(type(value), type)


def _is_namespace(value: Any) -> bool:
    return _is_module(value) or _is_class(value)


def _defines(cls: type, name: str) -> bool:
    """Whether ``cls`` or a base defines ``name``, asked without ``hasattr`` (which
    would call a metaclass ``__getattr__`` for a name that is missing)."""
    mro = type.__dict__["__mro__"].__get__(cls)
    return any(name in _class_dict(base) for base in mro)


def _class_dict(value: Any) -> Any:
    """A module's or class's own namespace, read without running its attribute hooks
    (a lazy module's ``__getattribute__``, a metaclass's ``__getattr__``)."""
    if _is_class(value):
        return type.__dict__["__dict__"].__get__(value)
    return object.__getattribute__(value, "__dict__")


# -- payload checks ------------------------------------------------------------------


def _built(obj: dict[str, Any], make: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``make(*args, **kwargs)``, with whatever it raises reported as malformed data."""
    try:
        return make(*args, **kwargs)
    except SerializationError:
        raise
    except Exception as exc:
        raise _Bad(str(obj.get(TAG)), obj, f"{type(exc).__name__}: {exc}") from exc


def _field(obj: dict[str, Any], field: str) -> Any:
    if field not in obj:
        raise _Bad(str(obj.get(TAG)), obj, f"{field!r} is missing")
    return obj[field]


def _str(obj: dict[str, Any], field: str = "v") -> str:
    value = obj.get(field)
    if not isinstance(value, str):
        raise _Bad(str(obj.get(TAG)), obj, f"{field!r} must be a string")
    return value


def _list(obj: dict[str, Any]) -> list[Any]:
    value = obj.get("v")
    if not isinstance(value, list):
        raise _Bad(str(obj.get(TAG)), obj, "'v' must be a list")
    return value


def _fields(obj: dict[str, Any], field: str) -> dict[str, Any]:
    value = obj.get(field)
    if not isinstance(value, dict) or TAG in value:
        raise _Bad(str(obj.get(TAG)), obj, f"{field!r} must be an object of fields")
    return value


def _hashed(obj: dict[str, Any], make: Callable[[Iterable[Any]], Any]) -> Any:
    return _built(obj, make, _list(obj))


def _dec_dict(obj: dict[str, Any]) -> dict[Any, Any]:
    pairs = _list(obj)
    if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise _Bad("dict", obj, "'v' must be a list of [key, value] pairs")
    return _built(obj, dict, pairs)


def _dec_bytes(obj: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(_str(obj), validate=True)
    except binascii.Error as exc:
        raise _Bad(str(obj.get(TAG)), obj, f"not base64 ({exc})") from exc


def _dec_float(obj: dict[str, Any]) -> float:
    value = _SPECIAL_FLOATS.get(_str(obj))
    if value is None:
        raise _Bad("float", obj, "'v' must be 'nan', 'inf' or '-inf'")
    return value


def _dec_timedelta(obj: dict[str, Any]) -> dt.timedelta:
    parts = _list(obj)
    if len(parts) != 3 or not all(type(p) is int for p in parts):
        raise _Bad("timedelta", obj, "'v' must be [days, seconds, microseconds] as integers")
    days, seconds, microseconds = parts
    return _built(obj, dt.timedelta, days=days, seconds=seconds, microseconds=microseconds)


def _dec_datetime(obj: dict[str, Any]) -> dt.datetime:
    value = _built(obj, dt.datetime.fromisoformat, _str(obj))
    tz = obj.get("tz")
    if tz is None:
        return value
    if not isinstance(tz, str) or not _TZ_KEY.fullmatch(tz) or len(tz) > 64:
        raise _Bad("datetime", obj, "'tz' must be an IANA time zone name")
    return _built(obj, value.astimezone, _zone(obj, tz))


def _zone(obj: dict[str, Any], key: str) -> Any:
    """The ``ZoneInfo`` for ``key``, read from the system's zone files, or from the
    ``tzdata`` package only when something has imported it already: ``ZoneInfo``
    falls back to importing ``tzdata`` for a key it cannot find."""
    from zoneinfo import TZPATH, ZoneInfo

    on_disk = any(os.path.isfile(os.path.join(root, key)) for root in TZPATH)
    if not on_disk and "tzdata" not in sys.modules:
        raise _Bad(
            "datetime",
            obj,
            f"time zone {key!r} is not in the system's zone files; install them, or "
            "import tzdata before loading",
        )
    return _built(obj, ZoneInfo, key)
