"""The services one run uses, as one typed object instead of loose attributes.

The compiled graph builds a :class:`Services` per run and hands it to a driver:
the pools its nodes run on, who observes it, where its checkpoints go, where
chunks made inside running tasks wait (``stream_mode="messages"``), and the
clock. The core never sees it; the dispatcher does.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from ._observe import ObserverGroup
from ._pool import Pools
from ._sink import EventSink
from .runtime import Runtime

if TYPE_CHECKING:
    from ._checkpointing import Checkpointing
    from ._core import Clock
    from ._nest import Nest

__all__ = ["SYSTEM_CLOCK", "Services", "SystemClock"]


class SystemClock:
    """The real clock: ``time.monotonic`` for deadlines, ``time.time`` for stamps."""

    __slots__ = ()
    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)


SYSTEM_CLOCK = SystemClock()


@dataclasses.dataclass(frozen=True)
class Services:
    """What a run needs from outside the core.

    Attributes:
        pools: where its nodes run, by executor kind; ``pools.primary`` admits the run.
        observers: who is told about its steps and attempts.
        durability: the thread's checkpoint hook, with a checkpointer.
        sink: chunks made inside running tasks, for modes that make them.
        runtime: what nodes may ask for (context, store, stream writer).
        cache: where nodes with a ``cache_policy`` keep their results, or None.
        clock: deadlines and timestamps.
        nest: what a nested run (a subgraph) takes from its parent's task (``_nest``).
        subgraphs: the caller streams with ``subgraphs=True``.
    """

    pools: Pools
    observers: ObserverGroup
    durability: Checkpointing | None = None
    sink: EventSink | None = None
    runtime: Runtime[Any] = dataclasses.field(default_factory=Runtime)
    cache: Any = None
    clock: Clock = SYSTEM_CLOCK
    nest: Nest | None = None
    subgraphs: bool = False
