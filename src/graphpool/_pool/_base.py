"""The pool interface every kind implements: ``concurrent.futures.Executor``'s.

A pool takes callables with ``submit(fn, *args)`` and returns
``concurrent.futures.Future`` objects; ``shutdown(wait, cancel_futures=...)``
stops it. The scheduler never knows which kind it talks to.
"""

from __future__ import annotations

import concurrent.futures
from typing import ClassVar

__all__ = ["WorkerPool"]


class WorkerPool(concurrent.futures.Executor):
    """Base class of graphpool's pools.

    Attributes:
        kind: ``"thread"``, ``"process"``, ``"async"`` or ``"ray"``.
        runs_inline: whether a run may execute a step's only task in the
            caller's thread instead of handing it over (saves a thread hop; only
            sensible where the worker would be a thread of this process anyway).
    """

    kind: ClassVar[str]
    runs_inline: ClassVar[bool] = False
