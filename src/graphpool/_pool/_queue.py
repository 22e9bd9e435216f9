"""The task queue: one lane per run, served round-robin, so no run starves another.

A run with a 1000-wide fan-out fills only its own lane; a small run arriving
later gets every other turn. Not thread-safe on its own: the pool that owns it
holds its lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["FairQueue"]

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
