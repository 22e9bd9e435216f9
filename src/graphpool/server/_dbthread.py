"""The server's database thread: calls run one at a time, in order, urgent ones first.

A run's way to its first event crosses this thread twice (admitted, then claimed);
a run's end (its thread's state, the queue's record, a stateless thread deleted)
costs more than both. Under load, admissions queued behind finishing runs waited
most of their time to first event (bench_server.py: 70 ms of 240 at the median),
so admissions and claims go ahead of the rest; after ``URGENT_STREAK`` urgent
calls in a row one other call runs, so that a flood of new runs never holds up
the ends of the runs already going.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from ..errors import PoolShutDownError

__all__ = ["DbThread"]

URGENT_STREAK = 8

_Item = tuple["concurrent.futures.Future[Any]", Callable[[], Any]]


class DbThread:
    """A one-thread executor with two lanes; :meth:`shutdown` runs what is queued."""

    def __init__(self, name: str = "graphpool-db") -> None:
        self._urgent: collections.deque[_Item] = collections.deque()
        self._normal: collections.deque[_Item] = collections.deque()
        self._ready = threading.Condition()
        self._closed = False
        self._streak = 0
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(
        self, call: Callable[[], Any], *, urgent: bool = False
    ) -> concurrent.futures.Future[Any]:
        """Queue ``call()``; its future.

        Raises:
            PoolShutDownError: after :meth:`shutdown`.
        """
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        with self._ready:
            if self._closed:
                raise PoolShutDownError("the server's database thread has shut down")
            (self._urgent if urgent else self._normal).append((future, call))
            self._ready.notify()
        return future

    def _next(self) -> _Item | None:
        with self._ready:
            while not self._urgent and not self._normal:
                if self._closed:
                    return None
                self._ready.wait()
            if self._urgent and (not self._normal or self._streak < URGENT_STREAK):
                self._streak += 1
                return self._urgent.popleft()
            self._streak = 0
            return self._normal.popleft()

    def _serve(self) -> None:
        while (item := self._next()) is not None:
            future, call = item
            if not future.set_running_or_notify_cancel():  # its caller went away
                continue
            try:
                result = call()
            except BaseException as exc:  # the caller gets it, as from an executor
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, call, item  # not kept alive until the next call comes

    def shutdown(self) -> None:
        """Run what is queued, then stop the thread."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._thread.join()
