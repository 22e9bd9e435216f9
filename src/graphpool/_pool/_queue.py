"""The task queue: one lane per run, served round-robin, so no run starves another.

A run with a 1000-wide fan-out fills only its own lane; a small run arriving
later gets every other turn. :class:`TaskQueue` adds what every pool kind needs
around it: the depth count, and admission of new runs (backpressure).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

from ..errors import PoolSaturatedError
from . import _validate
from ._stats import PoolMetrics

__all__ = ["FairQueue", "TaskQueue"]

T = TypeVar("T")


class FairQueue(Generic[T]):
    """FIFO within a lane, round-robin between lanes; ``len()`` counts every item."""

    def __init__(self) -> None:
        self._lanes: dict[Hashable, deque[T]] = {}
        self._turns: deque[Hashable] = deque()  # lanes with items, next to serve first
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def put(self, lane: Hashable, item: T) -> None:
        queue = self._lanes.get(lane)
        if queue is None:
            queue = self._lanes[lane] = deque()
        if not queue:
            self._turns.append(lane)
        queue.append(item)
        self._size += 1

    def get(self) -> T | None:
        """The next item, taking lanes in turn; None when empty."""
        if not self._turns:
            return None
        lane = self._turns.popleft()
        queue = self._lanes[lane]
        item = queue.popleft()
        self._size -= 1
        if queue:
            self._turns.append(lane)
        else:
            del self._lanes[lane]
        return item

    def remove(self, lane: Hashable, item: T) -> bool:
        """Take ``item`` out of ``lane`` (a cancelled task); False if it is not there."""
        queue = self._lanes.get(lane)
        if not queue:
            return False
        for i, queued in enumerate(queue):
            if queued is item:
                del queue[i]
                break
        else:
            return False
        self._size -= 1
        if not queue:
            self._turns.remove(lane)
            del self._lanes[lane]
        return True

    def drop(self, lane: Hashable) -> list[T]:
        """Remove and return every item of ``lane`` (a cancelled run)."""
        queue = self._lanes.pop(lane, None)
        if not queue:
            return []
        self._turns.remove(lane)
        self._size -= len(queue)
        return list(queue)

    def __iter__(self) -> Iterator[T]:
        for queue in self._lanes.values():
            yield from queue


class TaskQueue(Generic[T]):
    """A pool's waiting work: fair lanes, depth, admission of runs, under one lock.

    Methods without "locks" in their docstring expect the caller to hold
    :attr:`lock` (the pool's own lock, so its conditions can share it).

    Attributes:
        depth: tasks waiting (including ones a worker took ahead but has not started).
        active_runs: runs admitted and not yet released.
    """

    def __init__(self, queue_size: int | None, metrics: PoolMetrics) -> None:
        self.queue_size = _validate.optional_count("pool", "queue_size", queue_size, 1)
        self.metrics = metrics
        self.lock = threading.Lock()
        self._space = threading.Condition(self.lock)
        self._lanes: FairQueue[T] = FairQueue()
        self.depth = 0
        self.active_runs = 0

    def push(self, lane: Hashable, item: T) -> None:
        self._lanes.put(lane, item)
        self.depth += 1
        if self.depth > self.metrics.peak_queued:
            self.metrics.peak_queued = self.depth

    def pop(self) -> T | None:
        """Next item in fair order; it still counts in ``depth`` until :meth:`started`."""
        return self._lanes.get()

    def requeue(self, lane: Hashable, item: T) -> None:
        """Put back an item taken with :meth:`pop` but not started (depth unchanged)."""
        self._lanes.put(lane, item)

    def started(self) -> None:
        """One popped item left the queue for good."""
        self.depth -= 1
        if self.queue_size is not None:
            self._space.notify()

    def remove(self, lane: Hashable, item: T) -> bool:
        """Take a cancelled ``item`` out of its lane; False if it is not there
        (a worker popped it already)."""
        if not self._lanes.remove(lane, item):
            return False
        self.gone(1)
        return True

    def gone(self, count: int) -> None:
        """``count`` popped items left without starting (cancelled, or their run ended)."""
        self.depth -= count
        if self.queue_size is not None:
            self._space.notify_all()

    def drain(self) -> list[T]:
        """Remove every queued item (items already popped are the caller's)."""
        items = []
        while (item := self._lanes.get()) is not None:
            items.append(item)
        self.depth -= len(items)
        self._space.notify_all()
        return items

    def admit(self, owner: object, timeout: float | None) -> None:
        """Let a new run in, or hold it back while ``queue_size`` tasks wait (locks).

        Raises:
            PoolSaturatedError: no room within ``timeout`` (None: wait as long as
                it takes; 0: do not wait).
        """
        with self.lock:
            if self.queue_size is not None:
                deadline = None if timeout is None else time.monotonic() + timeout
                while self.depth >= self.queue_size:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        self.metrics.run_rejected()
                        raise PoolSaturatedError(
                            f"{owner!r} is saturated: {self.depth} tasks wait (queue_size="
                            f"{self.queue_size}); retry later or raise queue_size."
                        )
                    self._space.wait(left)
            self.active_runs += 1

    def release(self, lane: Hashable, seconds: float) -> list[T]:
        """A run ended: drop and return what it still had queued (locks)."""
        with self.lock:
            dropped = self.drop(lane)
        self.metrics.run_finished(seconds)
        return dropped

    def drop(self, lane: Hashable) -> list[T]:
        """A run ended: remove and return what it still had in its lane, and stop
        counting it as active (the caller records its latency)."""
        dropped = self._lanes.drop(lane)
        if dropped:
            self.gone(len(dropped))
        self.active_runs -= 1
        return dropped

    def wake_all(self) -> None:
        self._space.notify_all()
