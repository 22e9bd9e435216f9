"""How a task attempt reaches a pool: one small protocol, and a registry by executor name.

A node's ``executor=`` names a *runner*. A runner takes :class:`Job` objects
(one attempt of one task, made by the dispatcher) and runs them where its kind
of pool runs work: ``start`` hands a job over and later calls ``done(job)``
from any thread; ``abandon`` stops a job the run gave up on (a timeout, or the
run ended) as well as its kind can; ``run_inline`` may run a job in the
caller's thread instead (or return a coroutine for the caller's event loop).
Each runner maps its own failures to graphpool's errors: a dead worker to
:class:`~graphpool.WorkerCrashedError`, a job its pool dropped at shutdown to
:class:`~graphpool.errors.TaskCancelledError`.

Adding a kind of pool means writing its runner and calling
:func:`register_runner` (``tests/test_registry.py`` registers a toy one); the
scheduler, the dispatcher and the drivers never change. The built-in kinds
are imported on first use, so a graph of thread nodes never imports the
process or Ray machinery.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, ClassVar, Protocol

__all__ = ["Job", "NodeCall", "NodeRunner", "known_executors", "register_runner", "runner_for"]


NodeCall = Callable[["Job", Callable[..., Any], Any], Any]
"""How a runner calls a node somewhere else: ``call(job, fn, arg)`` returns the
node's return value (``fn(arg)`` is the node call, config bound)."""


class Job(Protocol):
    """One attempt of one task, as a runner sees it."""

    handle: Any  # a runner's own handle on remote work (a process future, a Ray ref)
    abandoned: bool  # the run gave up on this attempt: stop remote work it starts

    @property
    def lane(self) -> Hashable:
        """The run: fair queues serve lanes in turn."""
        ...

    @property
    def owner(self) -> Any:
        """The run itself (weak-referenceable), for per-run caches."""
        ...

    @property
    def step(self) -> int: ...

    @property
    def node(self) -> str: ...

    @property
    def attempt(self) -> int: ...

    @property
    def run_id(self) -> str: ...

    def run_sync(self, call: NodeCall | None = None) -> Any:
        """Run the attempt in this thread (the node itself through ``call``, if given).
        Never raises; returns the outcome, which the job also keeps."""
        ...

    def run_async(self) -> Coroutine[Any, Any, Any]:
        """Run the attempt on the running event loop; never raises."""
        ...

    def fail(self, error: BaseException) -> None:
        """End the attempt with ``error`` without running it (or what is left of it)."""
        ...

    def resources(self) -> Any:
        """The node's Ray resource options, if any."""
        ...


Done = Callable[[Job], None]


class NodeRunner:
    """Base class of runners: override :meth:`start` (and :meth:`abandon`).

    Attributes:
        kind: the executor name it is registered under.
        pool: the pool it hands work to (admission and metrics live there), or None.
    """

    kind: ClassVar[str] = ""
    pool: Any = None

    def start(self, job: Job, done: Done) -> Any:
        """Hand ``job`` over; call ``done(job)`` once it ended. Returns a handle."""
        raise NotImplementedError

    def run_inline(self, job: Job) -> Any:
        """Run ``job`` now in the caller's thread and return its outcome, or a
        coroutine giving it that the caller's loop awaits; None if this runner cannot."""
        return None

    def abandon(self, job: Job, handle: Any) -> None:
        """Stop ``job`` as well as this kind of pool can; its ``done`` may still come."""


RunnerFactory = Callable[[Any], NodeRunner]
"""Makes a runner over a graph's ``Pools`` (typed loosely: this module sits below them)."""

_BUILTIN = {
    "thread": "graphpool._pool._runners:ThreadRunner",
    "process": "graphpool._pool._runners:ProcessRunner",
    "async": "graphpool._pool._runners:AsyncRunner",
    "ray": "graphpool._pool._runners:RayRunner",
}
_factories: dict[str, RunnerFactory] = {}
_lock = threading.Lock()


def register_runner(kind: str, factory: RunnerFactory) -> None:
    """Make ``executor=kind`` run nodes on ``factory(pools)``'s runner."""
    with _lock:
        _factories[kind] = factory


def known_executors() -> tuple[str, ...]:
    """Every executor name a node may give."""
    return tuple(dict.fromkeys([*_BUILTIN, *_factories]))


def runner_for(kind: str, pools: Any) -> NodeRunner:
    """A new runner of ``kind`` over ``pools`` (the caller caches it)."""
    factory = _factories.get(kind)
    if factory is None:
        path = _BUILTIN.get(kind)
        if path is None:
            from ..errors import InvalidConfigError

            raise InvalidConfigError(
                f"executor={kind!r}: no such executor; choose one of "
                f"{', '.join(map(repr, known_executors()))}."
            )
        module, name = path.split(":")
        factory = getattr(importlib.import_module(module), name)
        register_runner(kind, factory)
    return factory(pools)
