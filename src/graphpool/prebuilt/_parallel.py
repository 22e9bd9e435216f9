"""Run a node's sub-calls (a ToolNode's tool calls) side by side on a worker pool.

The calling thread is itself one of the workers: it takes calls from a shared
queue like the helpers it submitted to the pool. When it runs out of calls,
helpers that have not started yet are cancelled. So the node never waits for a
pool thread that is not coming: if the pool is saturated (every thread busy,
perhaps with nodes doing just this), the caller runs every call itself, one
after another, instead of deadlocking.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .._pool import WorkerPool

__all__ = ["map_on_pool"]

T = TypeVar("T")
R = TypeVar("R")


def map_on_pool(
    fn: Callable[[T], R], items: Sequence[T], pool: WorkerPool, limit: int | None = None
) -> list[R]:
    """``[fn(x) for x in items]``, with up to ``limit`` calls at once (all by default).

    Each helper runs in a copy of the caller's context (contextvars), as the call
    would inline. If calls fail, no new call starts; the calls already running
    finish, and the error of the earliest failing item (in ``items`` order) is
    raised.
    """
    n = len(items)
    width = n if limit is None else max(1, min(limit, n))
    results: list[Any] = [None] * n
    errors: dict[int, BaseException] = {}
    lock = threading.Lock()
    pending = iter(range(n))

    def work() -> None:
        while True:
            with lock:
                i = None if errors else next(pending, None)
            if i is None:
                return
            try:
                results[i] = fn(items[i])
            except BaseException as exc:  # re-raised in the caller below
                with lock:
                    errors[i] = exc

    helpers = [pool.submit(contextvars.copy_context().run, work) for _ in range(width - 1)]
    work()
    for helper in helpers:
        if not helper.cancel():
            helper.result()
    if errors:
        raise errors[min(errors)]
    return results
