"""Environment variables that configure the process-wide default pools.

Read where the default pools are built, and checked once when ``graphpool`` is
imported, so a bad value fails at import with a message naming the variable
(an :class:`~graphpool.errors.InvalidPoolConfigError`). An unset or empty
variable keeps the built-in default. Pools you construct yourself ignore them.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from typing import Any

from .errors import InvalidPoolConfigError

__all__ = ["VARIABLES", "Settings", "settings"]


def _whole(minimum: int) -> Callable[[str, str], int]:
    def parse(name: str, text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise InvalidPoolConfigError(
                f"{name}={text!r}: must be a whole number >= {minimum}."
            ) from None
        if value < minimum:
            raise InvalidPoolConfigError(f"{name}={text!r}: must be >= {minimum}.")
        return value

    return parse


def _seconds(name: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidPoolConfigError(f"{name}={text!r}: must be a finite number of seconds >= 0.")
    return value


def _flag(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidPoolConfigError(
        f"{name}={text!r}: must be one of 1/0, true/false, yes/no, on/off."
    )


def _text(name: str, text: str) -> str:
    return text.strip()


# variable -> (Settings field, parser, meaning); the README's table lists the same.
VARIABLES: dict[str, tuple[str, Callable[[str, str], Any], str]] = {
    "GRAPHPOOL_MAX_WORKERS": ("max_workers", _whole(1), "threads of the default thread pool"),
    "GRAPHPOOL_MIN_WORKERS": ("min_workers", _whole(0), "threads it keeps while idle"),
    "GRAPHPOOL_IDLE_TIMEOUT": ("idle_timeout", _seconds, "seconds an idle thread waits"),
    "GRAPHPOOL_QUEUE_SIZE": ("queue_size", _whole(1), "tasks waiting before runs are held"),
    "GRAPHPOOL_PROCESS_WORKERS": ("process_workers", _whole(1), "default process pool size"),
    "GRAPHPOOL_PROCESS_MIN_WORKERS": (
        "process_min_workers",
        _whole(0),
        "worker processes it starts at once and keeps while idle",
    ),
    "GRAPHPOOL_PROCESS_IDLE_TIMEOUT": (
        "process_idle_timeout",
        _seconds,
        "seconds an idle worker process waits",
    ),
    "GRAPHPOOL_RAY_ADDRESS": ("ray_address", _text, "the Ray cluster executor='ray' joins"),
    "GRAPHPOOL_RAY_LOG_TO_DRIVER": ("ray_log_to_driver", _flag, "forward Ray workers' output"),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The default pools' settings; None means the built-in default."""

    max_workers: int | None = None
    min_workers: int | None = None
    idle_timeout: float | None = None
    queue_size: int | None = None
    process_workers: int | None = None
    process_min_workers: int | None = None
    process_idle_timeout: float | None = None
    ray_address: str | None = None
    ray_log_to_driver: bool | None = None

    def thread_options(self) -> dict[str, Any]:
        """Keyword arguments for the default ``ThreadPool`` (only those set)."""
        pairs = {
            "max_workers": self.max_workers,
            "min_workers": self.min_workers,
            "idle_timeout": self.idle_timeout,
            "queue_size": self.queue_size,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def process_options(self) -> dict[str, Any]:
        """Keyword arguments for the default ``ProcessPool`` (only those set)."""
        pairs = {
            "max_workers": self.process_workers,
            "min_workers": self.process_min_workers,
            "idle_timeout": self.process_idle_timeout,
        }
        return {k: v for k, v in pairs.items() if v is not None}


def settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse the ``GRAPHPOOL_*`` variables of ``environ`` (default ``os.environ``).

    Raises:
        InvalidPoolConfigError: a variable holds a bad value (the message names it).
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, (field, parse, _meaning) in VARIABLES.items():
        text = env.get(name)
        if text is not None and text.strip():
            values[field] = parse(name, text)
    found = Settings(**values)
    low, high = found.min_workers, found.max_workers
    if low is not None and low > (high if high is not None else low):
        raise InvalidPoolConfigError(
            f"GRAPHPOOL_MIN_WORKERS={low} must be <= GRAPHPOOL_MAX_WORKERS={high}."
        )
    return found
