"""Request bodies in, JSON out: the size limit, and validation errors that name the field."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from ._errors import ApiError
from ._json import dumps

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["Body", "json_response", "read_body"]

MAX_BODY_BYTES = 10 * 1024 * 1024

_TYPES: dict[type, str] = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
}


async def read_body(request: Request, *, array: bool = False) -> Any:
    """The request's JSON body (``{}`` if empty).

    Raises:
        ApiError: 413 past the size limit; 422 not JSON, or not an object (array).
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body over {MAX_BODY_BYTES} bytes")
    raw = b""
    async for part in request.stream():
        raw += part
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body over {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return [] if array else {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, f"request body is not JSON: {exc}") from None
    wanted = list if array else dict
    if not isinstance(data, wanted):
        raise ApiError(422, f"request body must be {_TYPES[wanted]}")
    return data


class Body:
    """Typed reads of one JSON object's fields; each mistake is a 422 naming the field."""

    def __init__(self, data: Mapping[str, Any], where: str = "") -> None:
        self.data = data
        self.where = where

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.data.get(name)
        if value is None:
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            ok = False
        else:
            ok = isinstance(value, kinds) or (float in kinds and isinstance(value, int))
        if not ok:
            names = " or ".join(_TYPES.get(k, k.__name__) for k in kinds)
            raise ApiError(422, f"{self.where}{name}: must be {names}")
        return value

    def choice(self, name: str, allowed: Collection[str], default: str | None = None) -> Any:
        value = self.get(name, str, default)
        if value is not None and value not in allowed:
            raise ApiError(422, f"{self.where}{name}: must be one of {sorted(allowed)}")
        return value

    def count(self, name: str, default: int, *, most: int = 1000) -> int:
        value = self.get(name, int, default)
        if not 0 <= value <= most:
            raise ApiError(422, f"{self.where}{name}: must be between 0 and {most}")
        return int(value)

    def strings(self, name: str) -> list[str] | None:
        value = self.get(name, list)
        if value is not None and not all(isinstance(v, str) for v in value):
            raise ApiError(422, f"{self.where}{name}: must be an array of strings")
        return value


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    from starlette.responses import Response

    if status == 204:
        return Response(status_code=204, headers=dict(headers or {}))
    return Response(
        dumps(data), status_code=status, media_type="application/json", headers=dict(headers or {})
    )
