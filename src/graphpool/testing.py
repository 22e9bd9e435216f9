"""Fault injection for tests: wrap a node so it crashes, fails or hangs on purpose.

The wrappers work on every executor, process workers included (they pickle
with cloudpickle, and "first attempt" is remembered in a file so that a new
worker process knows about it)::

    builder.add_node("n", crash_first(work, tmp_path / "n.marker"), executor="process")
    builder.add_node("m", crash_sometimes(work, rate=0.05))

:class:`LocalRayCluster` starts a real multi-node Ray cluster on loopback, for
trying ``executor="ray"`` on one machine.
"""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ._testing_ray import LocalRayCluster

__all__ = ["LocalRayCluster", "crash_first", "crash_sometimes", "fail"]

How = Literal["exit", "raise", "hang"]


def fail(how: How) -> None:
    """Fail now: ``exit`` kills the process with ``os._exit(1)``, ``raise`` raises
    ``ConnectionError`` (retried by the default policy), ``hang`` sleeps forever."""
    if how == "exit":
        os._exit(1)
    if how == "raise":
        raise ConnectionError("injected failure")
    while True:
        time.sleep(3600)


def crash_first(fn: Callable[..., Any], marker: str | os.PathLike[str], how: How = "exit") -> Any:
    """``fn``, except that its first call (ever, across processes) fails as ``how`` says.

    The marker file records that the first call happened; delete it to re-arm.
    """
    path = Path(marker)

    @functools.wraps(fn)
    def wrapper(state: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with open(path, "x"):
                pass
        except FileExistsError:
            return fn(state, *args, **kwargs)
        fail(how)

    return wrapper


def crash_sometimes(fn: Callable[..., Any], rate: float, how: How = "exit") -> Any:
    """``fn``, except that each call fails as ``how`` says with probability ``rate``."""

    @functools.wraps(fn)
    def wrapper(state: Any, *args: Any, **kwargs: Any) -> Any:
        if random.random() < rate:
            fail(how)
        return fn(state, *args, **kwargs)

    return wrapper
