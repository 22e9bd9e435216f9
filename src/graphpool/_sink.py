"""Stream chunks made while tasks run (a chat model's tokens), on their way to the caller.

The scheduler emits its chunks between tasks; some chunks are born inside a
running task, on a worker thread or the event loop. A task pushes those into
the run's :class:`EventSink`; the driver waits on :attr:`EventSink.wake` along
with the running tasks and yields what :meth:`EventSink.drain` returns, so
tokens reach the caller while the node is still running.
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = ["EventSink"]


class EventSink:
    """A thread-safe queue of ``(mode, chunk)`` pairs with a wake-up future."""

    __slots__ = ("_items", "_lock", "_wake", "_wrapped")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[str, Any]] = []
        self._wake: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._wrapped: tuple[concurrent.futures.Future[None], asyncio.Future[None]] | None = None

    def __repr__(self) -> str:
        return f"<EventSink pending={len(self._items)}>"

    def push(self, mode: str, chunk: Any) -> None:
        """Queue a chunk (from any thread) and wake the driver."""
        with self._lock:
            self._items.append((mode, chunk))
            if not self._wake.done():
                self._wake.set_result(None)

    @property
    def wake(self) -> concurrent.futures.Future[None]:
        """Done once a chunk is queued; replaced by a fresh one on :meth:`drain`."""
        return self._wake

    def wake_async(self) -> asyncio.Future[None]:
        """:attr:`wake` as a future of the running event loop."""
        import asyncio

        with self._lock:
            if self._wrapped is None or self._wrapped[0] is not self._wake:
                self._wrapped = (self._wake, asyncio.wrap_future(self._wake))
            return self._wrapped[1]

    def drain(self) -> list[tuple[str, Any]]:
        """Take every queued chunk, oldest first."""
        with self._lock:
            items, self._items = self._items, []
            if self._wake.done():
                self._wake = concurrent.futures.Future()
            return items
