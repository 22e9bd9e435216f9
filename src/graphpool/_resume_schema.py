"""``interrupt(response_schema=...)``: the schema an interrupt shows, and the check of
its answer.

A Pydantic model, ``TypedDict`` or dataclass becomes a pydantic ``TypeAdapter``: its
JSON Schema goes on the :class:`~graphpool.types.Interrupt`, and an answer is
validated (and converted) by it. A ``pydantic.ValidationError`` from that check is
marked, so :func:`graphpool.errors.is_invalid_resume` tells it from the node's own
validation errors (``ToolNode`` raises it instead of telling the model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import mark_invalid_resume

__all__ = ["validator"]


def validator(schema: type) -> tuple[dict[str, Any], Callable[[Any], Any]]:
    """The JSON Schema of ``schema`` and the function that validates an answer by it.

    Raises:
        ImportError: pydantic is not installed.
    """
    try:
        from pydantic import TypeAdapter, ValidationError
    except ImportError as exc:
        raise ImportError(
            "interrupt(response_schema=<a type>) validates answers with pydantic, "
            "which is not installed: pip install pydantic (or give a JSON Schema dict)"
        ) from exc
    adapter: Any = TypeAdapter(schema)

    def validate(answer: Any) -> Any:
        try:
            return adapter.validate_python(answer)
        except ValidationError as exc:
            mark_invalid_resume(exc)
            raise

    return adapter.json_schema(), validate
