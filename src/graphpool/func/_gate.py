"""A run's ``max_concurrency`` over its task calls: at most that many attempts run at once.

Each run with a limit has one :class:`Gate`. An attempt of a task call takes a
:class:`Slot` before it is handed to the pool (a sync one) or before its
coroutine goes on (an async one), and gives it back when it ends. An attempt
that finds no free slot waits in the gate's queue, in call order, without
holding a worker; a slot given back goes straight to the oldest waiter.

A call that waits on another call's future lends its slot while it waits
(:func:`waiting` and :func:`awaiting`) and takes one again before it goes on,
so tasks calling tasks never deadlock, whatever the limit (``max_concurrency=1``
included): only attempts doing work count. The entrypoint or node that makes
the calls holds no slot. ``tests/func/test_gate.py`` counts the calls inside
their bodies, under a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from .._context import CURRENT

__all__ = ["Gate", "Slot", "awaiting", "gate_for", "lender", "run_gated", "waiting"]

_gates: weakref.WeakKeyDictionary[Any, Gate | None] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


class Gate:
    """At most ``limit`` slots taken at once; the rest wait, first come first served."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0
        self._waiting: deque[Callable[[], object]] = deque()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Gate {self.taken}/{self.limit} waiting={len(self._waiting)}>"

    def enter(self, granted: Callable[[], object]) -> None:
        """Take a slot and call ``granted()`` now, or call it once a slot is given back
        (from the thread that gives it back: ``granted`` must not block)."""
        with self._lock:
            if self.taken >= self.limit:
                self._waiting.append(granted)
                return
            self.taken += 1
        granted()

    def leave(self) -> None:
        """Give a slot back: to the oldest waiter, if any."""
        with self._lock:
            if not self._waiting:
                self.taken -= 1
                return
            granted = self._waiting.popleft()
        granted()


class Slot:
    """One attempt's hold on its gate (``held`` is False while it lends it)."""

    __slots__ = ("gate", "held")

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self.held = True

    def __repr__(self) -> str:
        return f"<Slot held={self.held} of {self.gate!r}>"

    def release(self) -> None:
        """Give the slot back (once)."""
        if self.held:
            self.held = False
            self.gate.leave()

    def take(self) -> None:
        """Wait in this thread for a slot again."""
        ready = threading.Event()
        self.gate.enter(ready.set)
        ready.wait()
        self.held = True

    async def atake(self) -> None:
        """Wait on the running loop for a slot again (cancelled: nothing is held)."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def grant() -> None:
            if ready.cancelled():
                self.gate.leave()  # its waiter went away: pass the slot on
            else:
                ready.set_result(None)

        self.gate.enter(lambda: loop.call_soon_threadsafe(grant))
        await ready
        self.held = True


def gate_for(dispatcher: Any) -> Gate | None:
    """The gate of ``dispatcher``'s run, or None when the run sets no ``max_concurrency``."""
    try:
        return _gates[dispatcher]
    except KeyError:
        pass
    with _gates_lock:
        if dispatcher not in _gates:
            limit = dispatcher.run.options.max_concurrency
            _gates[dispatcher] = Gate(limit) if limit else None
        return _gates[dispatcher]


def lender() -> Slot | None:
    """The slot of the call running here, if it holds one."""
    slot = getattr(CURRENT.get(), "slot", None)
    return slot if isinstance(slot, Slot) and slot.held else None


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Around a blocking wait: the call running here lends its slot meanwhile."""
    slot = lender()
    if slot is None:
        yield
        return
    slot.release()
    try:
        yield
    finally:
        slot.take()


@contextlib.asynccontextmanager
async def awaiting() -> AsyncIterator[None]:
    """:func:`waiting` for an ``await``."""
    slot = lender()
    if slot is None:
        yield
        return
    slot.release()
    try:
        yield
    finally:
        await slot.atake()


async def run_gated(gate: Gate | None, call: Any, body: Callable[[], Any]) -> Any:
    """Await ``body()`` holding a slot of ``gate`` (if any) as ``call.slot``."""
    if gate is None:
        return await body()
    slot = Slot(gate)
    slot.held = False
    await slot.atake()
    call.slot = slot
    try:
        return await body()
    finally:
        call.slot = None
        slot.release()
