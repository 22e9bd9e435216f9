"""A background event loop, so sync runs can run async nodes without blocking threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any

__all__ = ["background_loop", "run_coroutine", "submit_coroutine"]

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use in a daemon thread."""
    global _loop
    if _loop is None:
        with _lock:
            if _loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="graphpool-event-loop", daemon=True
                ).start()
                _loop = loop
    return _loop


def submit_coroutine(coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
    """Schedule ``coro`` on the shared loop; returns a thread-safe future."""
    return asyncio.run_coroutine_threadsafe(coro, background_loop())


def run_coroutine(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on the shared loop and block the calling thread for its result."""
    return submit_coroutine(coro).result()
