"""Checks of pool constructor arguments: a bad value fails where it is given, named.

``ThreadPool("abc")``, ``ThreadPool(2.5)`` or ``idle_timeout=float("nan")``
would otherwise fail later, deep in a worker, or quietly do something else
(``True`` is an ``int``; ``nan`` compares false with everything).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..errors import InvalidPoolConfigError

__all__ = ["count", "optional_count", "seconds"]


def count(owner: str, name: str, value: Any, minimum: int) -> int:
    """``value`` as a whole number >= ``minimum`` (``True``/``False`` refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidPoolConfigError(
            f"{owner}({name}={value!r}): {name} must be a whole number >= {minimum}, "
            f"not {type(value).__name__}."
        )
    if value < minimum:
        raise InvalidPoolConfigError(f"{owner}({name}={value!r}): {name} must be >= {minimum}.")
    return int(value)


def optional_count(owner: str, name: str, value: Any, minimum: int) -> int | None:
    """Like :func:`count`; None (no bound) passes."""
    return None if value is None else count(owner, name, value, minimum)


def seconds(owner: str, name: str, value: Any) -> float:
    """``value`` as a finite number of seconds >= 0."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not real or not math.isfinite(value) or value < 0:
        raise InvalidPoolConfigError(
            f"{owner}({name}={value!r}): {name} must be a finite number of seconds >= 0."
        )
    return float(value)
