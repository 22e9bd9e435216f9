"""Connects one run to its checkpointer: load the thread, hold it, save as the run goes.

:func:`open_thread` plans a run before it starts (a
:class:`~graphpool._core.ResumePlan`). It takes the thread's lease (two runs on one
thread at once get :class:`~graphpool.errors.ThreadBusyError`), loads the checkpoint
to continue from, and decides what the input means, as LangGraph does:

* a value: new input. The saved state is kept, the unfinished tasks are
  dropped, and the run starts with START applying the input;
* ``None``: continue where the thread stopped (after a crash, an error, a
  breakpoint), reusing the results that tasks of the unfinished step saved;
* ``Command(resume=..., update=..., goto=...)``: the same, after delivering
  the resume values, applying the update and adding the routes.

The dispatcher hands the run's Save records to :meth:`Checkpointing.save`.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Mapping
from typing import Any

from ._core import ResumePlan
from ._core.records import INPUT
from .checkpoint.base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    Lease,
    TaskResult,
    thread_address,
)
from .errors import EmptyInputError, InvalidResumeError
from .types import Command

__all__ = ["Checkpointing", "open_thread"]

_INTERRUPT_ID = re.compile(r"[0-9a-f]{32}")


class Checkpointing:
    """The hook a durable run saves through: one thread of one saver, held by a lease.

    A subgraph's run on its root's saver holds no lease of its own (``lease`` is
    None): the root's lease on the thread covers every namespace in it, so
    parallel calls of one ``checkpointer=True`` subgraph (one namespace) never
    turn each other away (``tests/test_nest_checkpointer.py``). It refreshes the
    root's lease (``root``) as it saves.
    """

    def __init__(
        self,
        saver: BaseCheckpointSaver,
        thread_id: str,
        lease: Lease | None,
        durability: str = "sync",
        root: Checkpointing | None = None,
    ) -> None:
        self.saver = saver
        self.thread_id = thread_id
        self.lease = lease
        self.root = root  # whose lease covers this thread, when it holds none
        self.durability = durability
        self.config: dict[str, Any] = {"configurable": {"thread_id": thread_id}}
        self._refreshed = time.monotonic()
        self.extra: dict[str, Any] = {}  # from the run's config, as LangGraph's metadata has
        self.parents: dict[str, str] = {}  # a subgraph's: the checkpoint of each enclosing run
        self.replay_map: dict[str, str] = {}  # time travel: the checkpoint of each namespace
        self.replay: Replay | None = None  # time travel: where subgraphs start from
        # durability="exit": the run's last checkpoint and the results saved after it
        self._held: list[tuple[Checkpoint | TaskResult, str]] = []

    def __repr__(self) -> str:
        return f"<Checkpointing thread={self.thread_id!r} saver={self.saver!r}>"

    def save(self, record: Checkpoint | TaskResult, source: str) -> None:
        """Persist a checkpoint (it becomes the current one) or a task's result.

        With ``durability="exit"`` nothing is written until :meth:`close`: then
        the run's last checkpoint and the task results that followed it.
        """
        if self.durability == "exit":
            if isinstance(record, Checkpoint):
                self._held.clear()
            self._held.append((record, source))
            return
        self._write(record, source)

    def _metadata(self, record: Checkpoint, source: str) -> dict[str, Any]:
        metadata = {"source": source, "step": record.step, "parents": dict(self.parents)}
        metadata.update((k, v) for k, v in self.extra.items() if k not in metadata)
        return metadata

    def _write(self, record: Checkpoint | TaskResult, source: str) -> None:
        if isinstance(record, Checkpoint):
            self.config = self.saver.put(self.config, record, self._metadata(record, source))
            if time.monotonic() - self._refreshed > self.saver.lease_timeout / 3:
                self._refresh()
        else:
            self.saver.put_result(self.config, record)

    def _refresh(self) -> None:
        """Keep the thread's lease (the root run's, for a run nested on its saver) alive."""
        holder = self.root or self
        if holder.lease is not None:
            holder.saver.refresh(holder.thread_id, holder.lease)
        self._refreshed = time.monotonic()

    async def asave(self, record: Checkpoint | TaskResult, source: str) -> None:
        """:meth:`save` for an async run: through the saver's ``aput``/``aput_result``."""
        if self.durability == "exit":
            self.save(record, source)
            return
        await self._awrite(record, source)

    async def _awrite(self, record: Checkpoint | TaskResult, source: str) -> None:
        if isinstance(record, Checkpoint):
            self.config = await self.saver.aput(
                self.config, record, self._metadata(record, source), {}
            )
            if time.monotonic() - self._refreshed > self.saver.lease_timeout / 3:
                await asyncio.to_thread(self._refresh)
        else:
            await self.saver.aput_result(self.config, record)

    async def aflush(self) -> None:
        """Write what ``durability="exit"`` held back, through the async saver methods.

        Shielded, as LangGraph's final put: a caller cancelled now still gets its
        checkpoint saved (its ``CancelledError`` comes once the put has ended).
        """
        held, self._held = self._held, []
        if not held:
            return

        async def write_all() -> None:
            for record, source in held:
                await self._awrite(record, source)

        writing = asyncio.ensure_future(write_all())
        try:
            await asyncio.shield(writing)
        except asyncio.CancelledError:
            await asyncio.wait([writing])
            raise

    def drop_held(self) -> None:
        """Forget what ``durability="exit"`` held back (nothing of it is written)."""
        self._held.clear()

    def close(self) -> None:
        """Write what ``durability="exit"`` held back, and give the thread back."""
        try:
            held, self._held = self._held, []
            for record, source in held:
                self._write(record, source)
        finally:
            if self.lease is not None:
                self.saver.release(self.thread_id, self.lease)


class Replay:
    """A root run travelling back in time (given a checkpoint id, not resuming):
    each subgraph's first call starts from its latest checkpoint made before the
    root's (``checkpoint_id``), or afresh if it had none, as LangGraph's do."""

    def __init__(self, checkpoint_id: str, older: frozenset[str] = frozenset()) -> None:
        self.checkpoint_id = checkpoint_id
        self.older = older  # the root's checkpoints before it: a subgraph's ``parents[""]``
        self._visited: set[str] = set()
        self._lock = threading.Lock()

    def first_visit(self, ns: str) -> bool:
        stable = ns.rsplit(":", 1)[0]  # the same subgraph node on every call
        with self._lock:
            if stable in self._visited:
                return False
            self._visited.add(stable)
            return True

    def start(self, saver: BaseCheckpointSaver, config: Mapping[str, Any]) -> Any:
        """A subgraph thread's latest checkpoint made before the root's bound, or None."""
        for saved in saver.list(config):
            parents = saved.metadata.get("parents")
            if isinstance(parents, dict) and parents.get("") in self.older:
                return saved
        return None


def _replay_of(
    hook: Checkpointing, saved: CheckpointTuple | None, addressed: str | None, input: Any
) -> Replay | None:
    if saved is None or addressed is None:
        return None
    if isinstance(input, Command) and input.resume is not None:
        return None
    bound = saved.checkpoint.id
    if saved.metadata.get("source") in ("update", "fork") and saved.parent_config:
        bound = saved.parent_config["configurable"]["checkpoint_id"]
    root = {"configurable": {"thread_id": hook.thread_id, "checkpoint_ns": ""}}
    before = {"configurable": {"thread_id": hook.thread_id, "checkpoint_id": bound}}
    older = frozenset(t.checkpoint.id for t in hook.saver.list(root, before=before))
    return Replay(bound, older)


def open_thread(
    saver: BaseCheckpointSaver,
    input: Any,
    config: Mapping[str, Any] | None,
    recursion_limit: int,
    durability: str = "sync",
    *,
    before: Replay | None = None,
    rerun: bool = False,
    fallback: tuple[Any, ...] = (),
    root: Checkpointing | None = None,
) -> tuple[Checkpointing, ResumePlan]:
    """Take the thread ``config`` names and plan how a run on it begins.

    Returns the hook to save through (close it when the run ends) and the
    :class:`ResumePlan` to build the run from; see the module docstring.
    ``before`` (a subgraph while its root travels back in time): start from the
    thread's latest checkpoint made before the root's replay point, or afresh. ``rerun`` (a
    subgraph its root travels back to): its step's finished tasks run again.
    ``fallback`` (a subgraph called by a resumed task, ``input`` being the resume):
    ``(input,)`` to start with if the thread has nothing saved (it never ran).
    ``root`` (a subgraph's run): the hook of the run it is nested in; on the same
    saver, the root's lease covers this thread and none is taken.

    Raises:
        InvalidConfigError: no ``thread_id`` in the config.
        ThreadBusyError: another live run holds the thread.
        EmptyInputError: ``None`` input for a thread with nothing saved.
        InvalidResumeError: a ``Command`` for a thread with nothing saved, or an
            ambiguous resume value.
    """
    thread_id, checkpoint_id = thread_address(config)
    root = root.root or root if root is not None else None
    if root is not None and root.saver is saver and root.lease is not None:
        hook = Checkpointing(saver, thread_id, None, durability, root=root)
    else:
        lease = Lease.mine()
        saver.acquire(thread_id, lease)
        hook = Checkpointing(saver, thread_id, lease, durability)
    hook.extra = config_metadata(config)
    try:
        if before is not None:
            saved = before.start(saver, config or {})
        else:
            saved = saver.get_tuple(config or {})
            hook.replay = _replay_of(hook, saved, checkpoint_id, input)
        if saved is None and fallback:
            (input,) = fallback
        plan = _plan(hook, saved, input, checkpoint_id, recursion_limit, rerun)
    except BaseException:
        hook.close()
        raise
    return hook, plan


def _plan(
    hook: Checkpointing,
    saved: CheckpointTuple | None,
    input: Any,
    addressed: str | None,
    recursion_limit: int,
    rerun: bool = False,
) -> ResumePlan:
    resuming = input is None or isinstance(input, Command)
    if saved is None:
        if addressed is not None:
            raise EmptyInputError(f"Thread {hook.thread_id!r} has no checkpoint {addressed!r}.")
        if input is None:
            raise EmptyInputError(
                f"invoke(None) continues a thread, but thread {hook.thread_id!r} has no saved "
                "state; pass an input to start it."
            )
        if resuming:
            raise InvalidResumeError(
                f"A Command input continues a thread, but thread {hook.thread_id!r} has no "
                "saved state to resume; pass an input to start it."
            )
        return ResumePlan(durable=True)
    checkpoint = saved.checkpoint
    hook.config = saved.config
    stop = checkpoint.step + recursion_limit + 2  # as LangGraph counts
    parent_id = ((saved.parent_config or {}).get("configurable") or {}).get("checkpoint_id", "")
    if not resuming:  # the input checkpoint is step + 1
        return ResumePlan(
            durable=True,
            checkpoint=checkpoint,
            step=checkpoint.step + 2,
            stop=stop,
            parent_id=parent_id,
        )
    command = input if isinstance(input, Command) else None
    # time travel: a checkpoint id given, and no resume value; its finished tasks run again
    travels = addressed is not None and (command is None or command.resume is None)
    latest = not rerun and (addressed is None or _is_latest(hook, addressed))
    results = saved.results if latest and not travels else ()
    resume_by_id: dict[str, Any] = {}
    unaddressed: tuple[Any, ...] = ()
    # A fork starts the new branch, unless the checkpoint is one already (an
    # update_state or fork checkpoint still at the head: the run continues it)
    source = str(saved.metadata.get("source", "loop"))
    fork = travels and (source not in ("update", "fork") or not latest)
    if command is not None and command.resume is not None:
        pending = [i for r in results for i in r.interrupts]
        resume_by_id, unaddressed = _deliver(command.resume, pending)
    # a Command(update=...) given to the checkpoint applies however the run goes on
    # (LangGraph applies its null writes on time travel too; a fork then holds them)
    updates = tuple(sorted((r for r in saved.results if r.node == INPUT), key=lambda r: r.task_id))
    return ResumePlan(
        durable=True,
        checkpoint=checkpoint,
        resuming=True,
        updates=updates,
        stop=stop,
        reuse={r.task_id: r for r in results},
        resume_by_id=resume_by_id,
        unaddressed=unaddressed,
        command=command,
        parent_id=parent_id,
        source=source,
        fork=fork,
    )


_NOT_METADATA = frozenset(
    {
        "thread_id",
        "checkpoint_id",
        "checkpoint_ns",
        "checkpoint_map",
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "langgraph_checkpoint_ns",
    }
)


def config_metadata(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a run's config adds to its checkpoints' metadata, as LangGraph does:
    the plain values (str, int, float, bool) of ``metadata`` and ``configurable``,
    except the thread's address, the per-node keys and ``__``-prefixed keys."""
    found: dict[str, Any] = {}
    for part in ((config or {}).get("metadata"), (config or {}).get("configurable")):
        for key, value in (part or {}).items():
            if key in found or key in _NOT_METADATA or key.startswith("__"):
                continue
            if isinstance(value, (str, int, float, bool)):
                found[key] = value.replace("\u0000", "") if isinstance(value, str) else value
    return found


def _is_latest(hook: Checkpointing, checkpoint_id: str) -> bool:
    head = hook.saver.get_tuple({"configurable": {"thread_id": hook.thread_id}})
    return head is not None and head.checkpoint.id == checkpoint_id


def _deliver(resume: Any, pending: list[Any]) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """Which interrupt each resume value answers: by id, or the only one pending."""
    if (
        isinstance(resume, dict)
        and resume
        and all(isinstance(k, str) and _INTERRUPT_ID.fullmatch(k) for k in resume)
    ):
        return dict(resume), ()
    if len(pending) > 1:
        raise InvalidResumeError(
            "When there are multiple pending interrupts, you must specify the interrupt id "
            f"when resuming: {len(pending)} interrupts are pending "
            f"({', '.join(f'{i.id}: {i.value!r}' for i in pending)}); say which one each "
            "value answers: Command(resume={interrupt.id: value, ...})."
        )
    if pending:
        return {pending[0].id: resume}, ()
    return {}, (resume,)
