"""The state store's interface: what a saver keeps, and the records it keeps them in.

A *thread* (``config["configurable"]["thread_id"]``) is one conversation or job.
Its history is a chain of :class:`Checkpoint` records, one saved after each
superstep (and one for each new input), each holding everything the scheduler
needs to continue: the state's values, the step number, the nodes triggered for
the next step and the ``Send`` packets waiting, and the join edges' progress.
While a step runs, each task's outcome is saved as a :class:`TaskResult` the
moment the task finishes, filed under the checkpoint the step started from. A
run resumed after a crash reloads the latest checkpoint, reuses the saved
results and runs only the tasks that had not finished.

Savers implement a few storage primitives (:class:`BaseCheckpointSaver`); the
records are encoded by a :class:`~graphpool.checkpoint.serde.Serializer`
(JSON with type tags by default), so no saver ever unpickles.
"""

from __future__ import annotations

import abc
import asyncio
import builtins
import datetime
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from ..errors import InvalidConfigError, SerializationError, ThreadBusyError
from ..types import PregelTask, Send, StateSnapshot
from ._lease import Lease
from ._locate import culprit, stored_node
from ._records import FORMAT, Checkpoint, TaskResult, new_checkpoint_id, result_of_writes
from .serde import JsonSerializer, Serializer

_T = TypeVar("_T")

__all__ = [
    "FORMAT",
    "BaseCheckpointSaver",
    "Checkpoint",
    "CheckpointTuple",
    "Lease",
    "PregelTask",
    "StateSnapshot",
    "TaskResult",
    "new_checkpoint_id",
]


class CheckpointTuple(NamedTuple):
    """A stored checkpoint with its metadata and the results its step saved so far."""

    config: dict[str, Any]
    checkpoint: Checkpoint
    metadata: dict[str, Any]
    parent_config: dict[str, Any] | None
    created_at: str
    results: tuple[TaskResult, ...] = ()


NS_KEY_SEP = "\x1f"
"""Joins a thread id and a subgraph's checkpoint namespace into the key a saver
stores the subgraph's checkpoints under (its own thread, next to the root's)."""


def thread_config(thread_id: str, checkpoint_id: str) -> dict[str, Any]:
    thread, _, ns = thread_id.partition(NS_KEY_SEP)
    return {
        "configurable": {
            "thread_id": thread,
            "checkpoint_ns": ns,
            "checkpoint_id": checkpoint_id,
        }
    }


class BaseCheckpointSaver(abc.ABC):
    """Where a compiled graph's checkpoints go: ``compile(checkpointer=saver)``.

    Subclasses store encoded bytes; this class encodes and decodes the records.
    A saver is safe to use from several threads at once.

    Args:
        serde: the serializer (default :class:`~graphpool.checkpoint.serde.JsonSerializer`).
        lease_timeout: seconds after which the lease of a run on *another host*
            that stopped refreshing it is taken as dead (same-host leases are
            checked by pid).
    """

    def __init__(self, *, serde: Serializer | None = None, lease_timeout: float = 900.0) -> None:
        self.serde: Serializer = serde or JsonSerializer()
        self.lease_timeout = lease_timeout

    # -- storage primitives (one set per backend) ----------------------------------

    @abc.abstractmethod
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
        """Store one checkpoint row."""

    @abc.abstractmethod
    def _put_result(self, thread_id: str, checkpoint_id: str, task_id: str, data: bytes) -> None:
        """Store (or replace) one task's result under a checkpoint."""

    @abc.abstractmethod
    def _rows(
        self, thread_id: str, checkpoint_id: str | None, before: str | None, limit: int | None
    ) -> Iterator[tuple[str, str | None, str, bytes, bytes, builtins.list[bytes]]]:
        """Rows ``(id, parent_id, created_at, checkpoint, metadata, results)``, newest first.

        With ``checkpoint_id``, only that one; with ``before``, only older ones.
        """

    @abc.abstractmethod
    def _lease(self, thread_id: str, lease: Lease, take: bool) -> tuple[Lease, float] | None:
        """Atomically: if the thread is free (no holder, or a dead one) record ``lease``
        and return None; otherwise return the live holder and its refresh time.
        With ``take=False``, only refresh ``lease`` if it is still the holder."""

    @abc.abstractmethod
    def _unlease(self, thread_id: str, lease: Lease) -> None:
        """Remove ``lease`` if it still holds the thread."""

    @abc.abstractmethod
    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and result of a thread."""

    def _namespaces(self, thread_id: str) -> builtins.list[str]:
        """The storage keys of the thread's subgraph namespaces (see ``NS_KEY_SEP``)."""
        return []

    # -- the interface the runtime uses --------------------------------------------

    def put(
        self,
        config: Mapping[str, Any],
        checkpoint: Checkpoint,
        metadata: Mapping[str, Any],
        new_versions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Save ``checkpoint`` after the one ``config`` addresses; returns its config.

        ``new_versions`` is LangGraph's argument (the channel versions the
        checkpoint changed), taken so overrides written for LangGraph's savers
        fit; graphpool stores whole values and passes ``{}``.

        Raises:
            SerializationError: a state value cannot be stored (the message names the key).
        """
        thread_id, parent_id = thread_address(config)
        data = self._dump(checkpoint.to_record(), checkpoint.values.items(), "state key {!r}")
        meta = self.serde.dumps(dict(metadata))
        created = datetime.datetime.now(datetime.timezone.utc).isoformat()
        self._put_checkpoint(
            thread_id, checkpoint.id, parent_id, checkpoint.step, created, data, meta
        )
        return thread_config(thread_id, checkpoint.id)

    def put_result(self, config: Mapping[str, Any], result: TaskResult) -> None:
        """Save a finished task's outcome under the checkpoint ``config`` addresses.

        Raises:
            SerializationError: a written value cannot be stored (names the key and node).
        """
        thread_id, checkpoint_id = thread_address(config)
        if checkpoint_id is None:
            raise InvalidConfigError("put_result() needs a config with a checkpoint_id.")
        sends = [(f"Send to {s.node!r}", s.arg) for s in result.routes if isinstance(s, Send)]
        items = [*result.writes, *sends]
        items += [("interrupt value", i.value) for i in result.interrupts]
        what = f"the write of node {result.node!r} to {{!r}}"
        data = self._dump(result.to_record(), items, what)
        self._put_result(thread_id, checkpoint_id, result.task_id, data)

    def put_writes(
        self,
        config: Mapping[str, Any],
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """LangGraph's form of :meth:`put_result`: a task's writes, as ``(channel,
        value)`` pairs, under the checkpoint ``config`` addresses (see
        :func:`~graphpool.checkpoint._records.result_of_writes`). A resumed run
        takes them as the task's outcome instead of running it.

        Raises:
            InvalidConfigError: the config has no ``checkpoint_id``.
            SerializationError: a written value cannot be stored.
        """
        self.put_result(config, result_of_writes(task_id, writes, task_path))

    def get_tuple(self, config: Mapping[str, Any]) -> CheckpointTuple | None:
        """The checkpoint ``config`` addresses (its thread's latest without an id), or None."""
        thread_id, checkpoint_id = thread_address(config)
        for row in self._rows(thread_id, checkpoint_id, None, 1):
            return self._tuple(thread_id, row)
        return None

    def get(self, config: Mapping[str, Any]) -> Checkpoint | None:
        """The checkpoint record ``config`` addresses (see :meth:`get_tuple`), or None."""
        saved = self.get_tuple(config)
        return saved.checkpoint if saved is not None else None

    def list(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """A thread's checkpoints, newest first: older than ``before``'s, those whose
        metadata has ``filter``'s items, at most ``limit``. A ``config`` with a
        ``checkpoint_id`` lists that checkpoint only, as LangGraph's savers do."""
        thread_id, checkpoint_id = thread_address(config)
        before_id = thread_address(before)[1] if before else None
        count = 0
        for key, row in self._all_rows(config, thread_id, checkpoint_id, before_id, limit, filter):
            saved = self._tuple(key, row)
            if filter and any(saved.metadata.get(k) != v for k, v in filter.items()):
                continue
            yield saved
            count += 1
            if limit is not None and count >= limit:
                return

    def _all_rows(
        self,
        config: Mapping[str, Any],
        thread_id: str,
        checkpoint_id: str | None,
        before_id: str | None,
        limit: int | None,
        filter: Any,
    ) -> Iterator[tuple[str, Any]]:
        """Rows of the thread, newest first; a config without a ``checkpoint_ns`` (and
        without ids) takes its subgraphs' checkpoints too, as LangGraph's savers do."""
        limit = None if filter else limit
        every = "checkpoint_ns" not in ((config or {}).get("configurable") or {})
        others = (
            self._namespaces(thread_id) if every and not checkpoint_id and not before_id else []
        )
        if not others:
            for row in self._rows(thread_id, checkpoint_id, before_id, limit):
                yield thread_id, row
            return
        rows = [(k, r) for k in (thread_id, *others) for r in self._rows(k, None, None, None)]
        rows.sort(key=lambda item: item[1][0], reverse=True)  # by id: by time made
        yield from rows

    def acquire(self, thread_id: str, lease: Lease) -> None:
        """Take the thread for one run, or raise :class:`ThreadBusyError` if a live run has it."""
        held = self._lease(thread_id, lease, True)
        if held is not None:
            holder, _ = held
            raise ThreadBusyError(
                f"Thread {thread_id!r} is in use by another run ({holder.describe()}); two "
                "runs on one thread at once would interleave their checkpoints. Wait for it to "
                "finish, or use another thread_id.",
                thread_id=thread_id,
                owner=f"{holder.pid}@{holder.host}",
            )

    def refresh(self, thread_id: str, lease: Lease) -> None:
        """Tell other hosts that the run holding ``lease`` is still alive."""
        self._lease(thread_id, lease, False)

    def release(self, thread_id: str, lease: Lease) -> None:
        """Give the thread back (a no-op if ``lease`` no longer holds it)."""
        self._unlease(thread_id, lease)

    # -- async forms: the same, run in a worker thread so the event loop never blocks --

    async def _blocking(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run one of this saver's blocking calls from async code: in a worker thread.
        A saver whose calls are short enough to make on the loop may override it."""
        return await asyncio.to_thread(fn, *args)

    async def aget_tuple(self, config: Mapping[str, Any]) -> CheckpointTuple | None:
        """Async :meth:`get_tuple`."""
        return await self._blocking(self.get_tuple, config)

    async def aget(self, config: Mapping[str, Any]) -> Checkpoint | None:
        """Async :meth:`get`."""
        return await self._blocking(self.get, config)

    async def alist(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async :meth:`list` (the rows are read in one go, in a worker thread)."""
        found = await self._blocking(
            lambda: builtins.list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for saved in found:
            yield saved

    async def aput(
        self,
        config: Mapping[str, Any],
        checkpoint: Checkpoint,
        metadata: Mapping[str, Any],
        new_versions: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Async :meth:`put` (what an async run saves its checkpoints through)."""
        return await self._blocking(self.put, config, checkpoint, metadata, new_versions)

    async def aput_result(self, config: Mapping[str, Any], result: TaskResult) -> None:
        """Async :meth:`put_result`."""
        await self._blocking(self.put_result, config, result)

    async def aput_writes(
        self,
        config: Mapping[str, Any],
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async :meth:`put_writes`."""
        await self._blocking(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async :meth:`delete_thread`."""
        await self._blocking(self.delete_thread, thread_id)

    # -- helpers ---------------------------------------------------------------------

    def _dump(self, record: dict[str, Any], items: Any, what: str) -> bytes:
        try:
            return self.serde.dumps(record)
        except SerializationError:
            for key, value in items:
                try:
                    self.serde.dumps(value)
                except SerializationError as exc:
                    where = what.format(key)
                    raise SerializationError(f"Cannot checkpoint {where}: {exc}") from None
            raise

    def _tuple(
        self, thread_id: str, row: tuple[str, str | None, str, bytes, bytes, builtins.list[bytes]]
    ) -> CheckpointTuple:
        checkpoint_id, parent_id, created_at, data, meta, results = row
        where = f"checkpoint {checkpoint_id!r} of thread {thread_id!r}"
        metadata = self._load(meta, f"the metadata of {where}")
        if not isinstance(metadata, dict):
            raise SerializationError(f"Cannot load the metadata of {where}: not an object.")
        return CheckpointTuple(
            config=thread_config(thread_id, checkpoint_id),
            checkpoint=self._load_checkpoint(data, where),
            metadata=metadata,
            parent_config=thread_config(thread_id, parent_id) if parent_id else None,
            created_at=created_at,
            results=tuple(self._load_result(r, where) for r in results),
        )

    def _load(self, data: bytes, what: str, *, node: str | None = None) -> Any:
        try:
            return self.serde.loads(data)
        except Exception as exc:  # a custom serde may raise anything; ours SerializationError
            raise SerializationError(f"Cannot load {what}: {exc}", node=node) from exc

    def _load_checkpoint(self, data: bytes, where: str) -> Checkpoint:
        try:
            return Checkpoint.from_record(self.serde.loads(data))
        except Exception as exc:
            at = culprit(self.serde, data, {"values": "state key {!r}"})
            raise SerializationError(f"Cannot load {at}{where}: {exc}") from exc

    def _load_result(self, data: bytes, where: str) -> TaskResult:
        try:
            return TaskResult.from_record(self.serde.loads(data))
        except Exception as exc:
            node = stored_node(data)
            at = culprit(self.serde, data, {"writes": "the write to {!r}"})
            task = f"the result of node {node!r}" if node else "a task result"
            raise SerializationError(
                f"Cannot load {at}{task} under {where}: {exc}", node=node
            ) from exc


def thread_address(config: Mapping[str, Any] | None) -> tuple[str, str | None]:
    configurable = (config or {}).get("configurable") or {}
    thread_id = configurable.get("thread_id")
    if thread_id is None:
        raise InvalidConfigError(
            "A graph with a checkpointer needs config={'configurable': {'thread_id': ...}} "
            "to know which thread to save to and resume from."
        )
    ns = configurable.get("checkpoint_ns")
    if ns:  # a subgraph's checkpoints: a thread of their own
        return f"{thread_id}{NS_KEY_SEP}{ns}", configurable.get("checkpoint_id")
    return str(thread_id), configurable.get("checkpoint_id")
