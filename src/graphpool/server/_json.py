"""JSON in and out: graph values (messages, dataclasses, pydantic models) made plain."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "loads", "now", "plain"]


def now() -> str:
    """The current time as ISO 8601 with a time zone, as LangGraph's API sends it."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _default(value: Any) -> Any:
    from ..types import Interrupt

    if isinstance(value, Interrupt):
        return {"value": value.value, "id": value.id}
    if hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic, LC messages
        return value.model_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict"):  # NamedTuple
        return value._asdict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, BaseException):
        return {"error": type(value).__name__, "message": str(value)}
    if isinstance(value, Mapping):
        return dict(value)
    return repr(value)


def dumps(value: Any) -> str:
    """``value`` as compact JSON; what JSON cannot hold is made plain (see ``_default``)."""
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)


def plain(value: Any) -> Any:
    """``value`` as plain JSON types (a round trip through :func:`dumps`)."""
    return json.loads(dumps(value))


def loads(text: str | bytes | None, fallback: Any = None) -> Any:
    return fallback if text is None else json.loads(text)
