"""``InMemorySaver``: checkpoints in a dict, for tests, notebooks and short-lived runs.

Records are stored encoded, as the durable savers store them, so a saved state
is a copy (a node mutating a list after the step does not change history) and
the serializer's errors show up here first. Everything is lost with the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from ..errors import CheckpointNotFoundError
from ._lease import Lease, LocalLeases
from .base import NS_KEY_SEP, BaseCheckpointSaver

__all__ = ["InMemorySaver", "MemorySaver"]

_Row = tuple[str, str | None, str, bytes, bytes, dict[str, bytes]]


class InMemorySaver(BaseCheckpointSaver):
    """A saver that keeps every thread's checkpoints in memory, as LangGraph's.

    ``compile(checkpointer=InMemorySaver())``; thread-safe.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._threads: dict[str, list[_Row]] = {}
        self._leases = LocalLeases()

    def __repr__(self) -> str:
        return f"<InMemorySaver threads={len(self._threads)}>"

    def _put_checkpoint(
        self,
        thread_id: str,
        checkpoint_id: str,
        parent_id: str | None,
        step: int,
        created_at: str,
        checkpoint: bytes,
        metadata: bytes,
    ) -> None:
        with self._lock:
            rows = self._threads.setdefault(thread_id, [])
            rows.append((checkpoint_id, parent_id, created_at, checkpoint, metadata, {}))

    def _put_result(self, thread_id: str, checkpoint_id: str, task_id: str, data: bytes) -> None:
        with self._lock:
            for row in reversed(self._threads.get(thread_id, ())):
                if row[0] == checkpoint_id:
                    row[5][task_id] = data
                    return
        raise CheckpointNotFoundError(f"No checkpoint {checkpoint_id!r} in thread {thread_id!r}.")

    def _rows(
        self, thread_id: str, checkpoint_id: str | None, before: str | None, limit: int | None
    ) -> Iterator[tuple[str, str | None, str, bytes, bytes, list[bytes]]]:
        with self._lock:
            rows = list(reversed(self._threads.get(thread_id, ())))
            picked = []
            seen_before = before is None
            for row in rows:
                if not seen_before:
                    seen_before = row[0] == before
                    continue
                if checkpoint_id is None or row[0] == checkpoint_id:
                    picked.append((*row[:5], list(row[5].values())))
                if limit is not None and len(picked) >= limit:
                    break
        yield from picked

    def _lease(self, thread_id: str, lease: Lease, take: bool) -> tuple[Lease, float] | None:
        return self._leases.take(thread_id, lease, take)

    def _unlease(self, thread_id: str, lease: Lease) -> None:
        self._leases.drop(thread_id, lease)

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            self._threads.pop(thread_id, None)
            for key in [k for k in self._threads if k.startswith(thread_id + NS_KEY_SEP)]:
                del self._threads[key]  # its subgraphs' namespaces

    def _namespaces(self, thread_id: str) -> list[str]:
        with self._lock:
            return [k for k in self._threads if k.startswith(thread_id + NS_KEY_SEP)]


MemorySaver = InMemorySaver
"""LangGraph's older name for :class:`InMemorySaver`."""
