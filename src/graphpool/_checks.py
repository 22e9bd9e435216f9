"""Checks for the plain values users pass in: durations, counts, names from a fixed set.

Each check returns the value in its canonical form or raises the error class the
caller names (``InvalidGraphError`` at build time, ``InvalidConfigError`` for a
run's config and option records), with a message that starts with where the value
was given (``add_node('fetch', timeout=...)``, ``config['admission_timeout']``),
so the culprit is named where it is given rather than deep inside a run.

A ``bool`` is never a number here: ``timeout=True`` is a mistake, not one second.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

from .errors import GraphpoolError

__all__ = ["check_choice", "check_number", "check_positive_int", "check_seconds"]


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_seconds(
    value: Any, where: str, error: type[GraphpoolError], *, zero: bool = False
) -> float:
    """A duration: a finite real number of seconds, or a ``timedelta``, > 0 (>= 0
    when ``zero``).

    ``nan`` and ``inf`` are refused rather than read as "no limit": the caller
    passes None for that, which is what the message says.
    """
    import datetime

    if isinstance(value, datetime.timedelta):
        value = value.total_seconds()
    if not _is_real(value):
        raise error(
            f"{where}={value!r}: expected a number of seconds, got a {type(value).__name__}."
        )
    seconds = float(value)
    bound = ">= 0" if zero else "> 0"
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not zero):
        raise error(
            f"{where}={value!r}: must be a finite number of seconds {bound}; pass None for "
            "no limit."
        )
    return seconds


def check_number(value: Any, where: str, error: type[GraphpoolError], *, at_least: float) -> float:
    """A finite real number (not a bool) that is at least ``at_least``."""
    if not _is_real(value) or not math.isfinite(value) or value < at_least:
        raise error(f"{where}={value!r}: must be a finite number >= {at_least:g}.")
    return float(value)


def check_positive_int(value: Any, where: str, error: type[GraphpoolError]) -> int:
    """An ``int`` (not a bool, not a float) of at least 1."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise error(f"{where}={value!r}: must be a whole number >= 1.")
    return int(value)


def check_choice(
    value: Any, where: str, error: type[GraphpoolError], choices: Collection[str]
) -> str:
    """One of ``choices``; the message lists them."""
    if not isinstance(value, str) or value not in choices:
        raise error(f"{where}={value!r} is unknown; choose one of {', '.join(map(repr, choices))}.")
    return value
