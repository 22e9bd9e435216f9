"""Ray pool: nodes run as Ray tasks, on any machine of a Ray cluster.

How a node call flows (the scheduler and the state never leave this process)::

    pool thread (driver)                Ray cluster
    --------------------                -----------
    input_for(): the step's state  -->  object store (one ray.put per distinct
                 (put once if large)    input per step, shared by its tasks)
    submit_call(): _run_node.remote --> a worker process on some node runs
                                        fn(state) and returns its writes
    result(): ray.get, errors mapped <-- the return value, or the error

Ray's own task retries are off (``max_retries=0``): a worker that dies
surfaces as graphpool's :class:`~graphpool.WorkerCrashedError`, retried by the
node's ``RetryPolicy`` like a dead process worker. A timed-out task is
cancelled with ``force=True``, which kills its worker process. An exception
raised by the node reaches the caller with its own type.

Nothing outlives the driver: Ray ends a job's tasks when the driver process
goes, killed with SIGKILL included (``tests/test_ray.py`` checks it; the task's
worker went within a fraction of a second here). Through Ray Client
(``ray://``) the cluster first waits ``RAY_CLIENT_RECONNECT_GRACE_PERIOD``
seconds (30 by default) for the client to come back.

Which cluster: Ray's own rules, after graphpool's. An ``address`` given to
:class:`RayPool` or ``GRAPHPOOL_RAY_ADDRESS`` wins; otherwise ``ray.init()``
decides as it does for any Ray program: ``RAY_ADDRESS``, else the cluster
``ray start`` runs on this machine, else a new local instance (no dashboard),
which graphpool keeps on 127.0.0.1 with Ray's own switch when it imports Ray
itself (``_ray_local``). Ray's internals are never patched. What a node prints
is forwarded to the driver's terminal, as Ray does (``log_to_driver=False`` or
``GRAPHPOOL_RAY_LOG_TO_DRIVER=0`` turns it off).

Ray is imported on connecting only: ``pip install 'graphpool[ray]'``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import functools
import importlib.util
import logging
import os
import pickle
import sys
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from .._env import settings
from ..errors import (
    InvalidGraphError,
    PoolShutDownError,
    TaskCancelledError,
    WorkerCrashedError,
)
from ._base import WorkerPool
from ._pickling import pickled_size
from ._ray_local import loopback_import, starts_local_instance

__all__ = [
    "ADDRESS_ENV",
    "RayPool",
    "RayStatistics",
    "check_resources",
    "default_ray_pool",
    "require_ray",
]

ADDRESS_ENV = "GRAPHPOOL_RAY_ADDRESS"
"""Environment variable with the Ray cluster to join: ``auto``, ``host:port`` or
``ray://host:port``; it wins over Ray's own ``RAY_ADDRESS``."""

INLINE_LIMIT = 100 * 1024
"""Inputs smaller than this (pickled) travel inside the task, as Ray itself does
(its ``max_direct_call_object_size``); larger ones are put in the object store."""

_RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory", "custom")


_MISSING = "executor='ray' needs Ray, which is not installed: pip install 'graphpool[ray]'"


def require_ray() -> Any:
    """Import Ray, or fail saying what to install."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(_MISSING) from exc
    return ray


def _check_installed() -> None:
    """Fail, saying what to install, if Ray is missing; without importing it (Ray is
    imported on connecting, when graphpool knows whether it starts a local instance)."""
    if "ray" in sys.modules:
        found = sys.modules["ray"] is not None
    else:
        found = importlib.util.find_spec("ray") is not None
    if not found:
        raise ImportError(_MISSING)


def check_resources(node: str, resources: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a node's Ray resource hints; return them as Ray task options.

    Keys: ``num_cpus``, ``num_gpus`` (numbers >= 0), ``memory`` (bytes, an
    int >= 0) and ``custom`` (a mapping of a custom resource name to an amount).
    """
    if not isinstance(resources, Mapping):
        raise InvalidGraphError(f"Node {node!r}: resources must be a dict, got {resources!r}.")
    options: dict[str, Any] = {}
    for key, value in resources.items():
        if key not in _RESOURCE_KEYS:
            raise InvalidGraphError(
                f"Node {node!r}: unknown resource {key!r}; use {', '.join(_RESOURCE_KEYS)} "
                "(custom: {'name': amount} for resources you gave Ray nodes)."
            )
        if key == "custom":
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise InvalidGraphError(
                    f"Node {node!r}: resources['custom'] must map names to amounts, got {value!r}."
                )
            for name, amount in value.items():
                _check_amount(node, f"custom[{name!r}]", amount)
            options["resources"] = dict(value)
        else:
            _check_amount(node, key, value, whole=key == "memory")
            options[key] = value
    return options


def _check_amount(node: str, key: str, value: Any, whole: bool = False) -> None:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < 0:
        what = "an int (bytes)" if whole else "a number"
        raise InvalidGraphError(
            f"Node {node!r}: resources {key} must be {what} >= 0, got {value!r}."
        )


def check_node(node: str, fn: Callable[..., Any]) -> None:
    """Fail early, naming the node, if its function cannot be sent to Ray."""
    _check_installed()
    pickled_size(node, fn, None)


def _run_node(fn_bytes: bytes, arg: Any) -> Any:
    """Runs in a Ray worker: call the node (an async one on its own loop).

    The function comes pickled by graphpool's cloudpickle (as for process
    workers), so ``cloudpickle.register_pickle_by_value`` applies to it.
    """
    import cloudpickle

    fn = cloudpickle.loads(fn_bytes)
    result = fn(arg)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result


def _without_input(call: Callable[[], Any], _input: Any) -> Any:
    return call()


@dataclasses.dataclass(frozen=True)
class RayStatistics:
    """What a :class:`RayPool` has done since it was made.

    Attributes:
        submitted: node calls sent to Ray.
        puts: input states put in the object store (at most one per distinct
            large input per step; small inputs travel inside the task).
        crashed: calls whose Ray worker or node died (each becomes a
            :class:`~graphpool.WorkerCrashedError`, retried per the node's policy).
        cancelled: calls cancelled with their worker killed (timeouts, abandoned runs).
    """

    submitted: int = 0
    puts: int = 0
    crashed: int = 0
    cancelled: int = 0


class _StepInputs:
    """Input states of one run in the object store, for its latest step only."""

    __slots__ = ("entries", "lock", "step")

    def __init__(self) -> None:
        self.step = -1
        self.entries: dict[Any, tuple[Any, Any]] = {}  # identity key -> (input, ref or input)
        self.lock = threading.Lock()


def _identity(arg: Any) -> Any:
    """A key equal for two inputs holding the very same values (tasks of one step
    read the same channel values; each gets its own dict around them)."""
    fields = arg if isinstance(arg, dict) else getattr(arg, "__dict__", None)
    if isinstance(fields, dict):
        return (type(arg), tuple((k, id(v)) for k, v in fields.items()))
    return (type(arg), id(arg))


class RayPool(WorkerPool):
    """Runs node calls as Ray tasks (``executor="ray"``).

    Args:
        address: the cluster to join: ``"auto"`` (the one ``ray start`` runs on
            this machine), ``"host:port"`` or ``"ray://host:port"`` (Ray
            Client). Default: the ``GRAPHPOOL_RAY_ADDRESS`` environment
            variable; if unset, Ray's own choice, as a bare ``ray.init()``
            makes it: ``RAY_ADDRESS``, else the cluster ``ray start`` runs on
            this machine, else a new local instance (without a dashboard, on
            127.0.0.1 only unless this process imported Ray before graphpool
            connects). If this process already called ``ray.init()``, that
            connection is used.
        log_to_driver: forward what nodes print to this process's stdout and
            stderr (Ray's default). Default: ``GRAPHPOOL_RAY_LOG_TO_DRIVER``,
            else True.
        scheduling_strategy: Ray's placement rule for node tasks. The default,
            ``"SPREAD"``, spreads a fan-out over the cluster's machines; Ray's
            ``"DEFAULT"`` fills the driver's own machine first and moves work
            elsewhere only when that machine is busy.
        **init_options: more ``ray.init`` arguments (``runtime_env``,
            ``namespace``, ``num_cpus`` for a local instance, ...).

    Connects on first use. ``submit(fn, *args)`` runs ``fn(*args)`` as a Ray
    task; graphpool's runtime uses :meth:`submit_call`.
    """

    kind = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        scheduling_strategy: Any = "SPREAD",
        log_to_driver: bool | None = None,
        **init_options: Any,
    ) -> None:
        self.address = address
        self.scheduling_strategy = scheduling_strategy
        self.log_to_driver = log_to_driver
        self.init_options = init_options
        self._ray: Any = None
        self._remote: Any = None
        self._options: dict[Any, Any] = {}
        self._owns_connection = False
        self._shutdown = False
        self._lock = threading.Lock()
        self._inputs: weakref.WeakKeyDictionary[Any, _StepInputs] = weakref.WeakKeyDictionary()
        self._cancelled: set[str] = set()  # ids of tasks we cancelled: no crash, no count
        self._stats = RayStatistics()

    def __repr__(self) -> str:
        state = "shut down" if self._shutdown else "connected" if self._ray else "not connected"
        address = self.address or os.environ.get(ADDRESS_ENV) or os.environ.get("RAY_ADDRESS")
        return f"<RayPool address={address!r} {state}>"

    # -- connection ------------------------------------------------------------

    def connect(self) -> Any:
        """Join the cluster (once); return the ``ray`` module."""
        if self._ray is not None:
            return self._ray
        with self._lock:
            if self._shutdown:
                raise PoolShutDownError(f"cannot use {self!r}: it is shut down")
            if self._ray is None:
                options = self.init_arguments()
                local = starts_local_instance(options["address"], options.get("_temp_dir"))
                with loopback_import(local):  # Ray reads its loopback switch on import
                    ray = require_ray()
                if not ray.is_initialized():
                    ray.init(**options)
                    self._owns_connection = True
                self._remote = ray.remote(_run_node)
                self._ray = ray
        return self._ray

    def init_arguments(self) -> dict[str, Any]:
        """The ``ray.init`` arguments :meth:`connect` uses (when Ray is not yet initialised).

        ``address`` is None unless given here or in ``GRAPHPOOL_RAY_ADDRESS``:
        then ``ray.init`` follows Ray's own rules (``RAY_ADDRESS``, a ``ray
        start`` cluster on this machine, else a local instance).
        ``include_dashboard`` only matters to a local instance Ray starts; such an
        instance is kept on 127.0.0.1 by Ray's ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``
        switch, set while graphpool imports Ray (if Ray is not imported yet).
        """
        env = settings()
        log = self.log_to_driver
        if log is None:
            log = env.ray_log_to_driver if env.ray_log_to_driver is not None else True
        options: dict[str, Any] = {
            "address": self.address or env.ray_address or None,
            "log_to_driver": log,
            "logging_level": logging.ERROR,
            "include_dashboard": False,
        }
        options.update(self.init_options)
        return options

    # -- node calls ------------------------------------------------------------

    def input_for(self, owner: Any, step: int, node: str, arg: Any) -> Any:
        """What to send as a task's input: ``arg`` itself if small, else an
        ObjectRef shared by every task of ``owner``'s step ``step`` with the same input.

        ``owner`` (a run) is held weakly: its refs go when it goes, and a new
        step releases the previous step's.
        """
        ray = self.connect()
        inputs = self._inputs.get(owner)
        if inputs is None:
            with self._lock:
                inputs = self._inputs.setdefault(owner, _StepInputs())
        key = _identity(arg)
        with inputs.lock:
            if step > inputs.step:
                inputs.step, inputs.entries = step, {}
            elif step < inputs.step:  # a straggler of an older step (eager runs)
                return self._put_if_large(ray, node, arg)
            cached = inputs.entries.get(key)
            if cached is None:
                cached = inputs.entries[key] = (arg, self._put_if_large(ray, node, arg))
            return cached[1]

    def _put_if_large(self, ray: Any, node: str, arg: Any) -> Any:
        if pickled_size(node, None, arg) < INLINE_LIMIT:
            return arg
        self._count(puts=1)
        return ray.put(arg)

    def submit_call(
        self, fn: Callable[[Any], Any], arg: Any, options: Mapping[str, Any] | None = None
    ) -> Any:
        """Start ``fn(arg)`` as a Ray task (``arg`` may be an ObjectRef); return its ObjectRef.

        ``options`` are Ray task options, as :func:`check_resources` makes them.
        """
        self.connect()
        key = tuple(sorted((k, str(v)) for k, v in (options or {}).items()))
        remote = self._options.get(key)
        if remote is None:
            # Ray's own retries off: graphpool's RetryPolicy decides.
            ray_options = {"max_retries": 0, "scheduling_strategy": self.scheduling_strategy}
            remote = self._options[key] = self._remote.options(**ray_options, **(options or {}))
        import cloudpickle

        fn_bytes = cloudpickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
        self._count(submitted=1)
        return remote.remote(fn_bytes, arg)

    def result(self, ref: Any, *, node: str, attempt: int = 1, run_id: str = "") -> Any:
        """Wait for a call :meth:`submit_call` started; return what the node returned.

        Raises:
            Exception: the node's own exception, with its type.
            WorkerCrashedError: its worker or machine died (or it was cancelled).
            TaskCancelledError: this pool was shut down before the call ended.
        """
        ray = self._ray
        if ray is None:
            raise _dropped(node, attempt, run_id, f"{self!r} was shut down")
        errors = ray.exceptions
        try:
            return ray.get(ref)
        except errors.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, Exception) and not isinstance(cause, errors.RayError):
                raise cause from exc  # the node's own error, its remote traceback chained
            raise
        except _worker_lost(errors) as exc:
            with self._lock:
                cancelled = ref.hex() in self._cancelled
                self._cancelled.discard(ref.hex())
            if not cancelled:
                self._count(crashed=1)
            raise WorkerCrashedError(
                f"The Ray worker running node {node!r} died or was cancelled "
                f"({type(exc).__name__}; attempt {attempt}, run {run_id}).",
                node=node,
                attempt=attempt,
                run_id=run_id,
            ) from exc

    def call(
        self,
        fn: Callable[[Any], Any],
        arg: Any,
        options: Mapping[str, Any] | None = None,
        *,
        node: str,
        attempt: int = 1,
        run_id: str = "",
        submitted: Callable[[Any], None] | None = None,
    ) -> Any:
        """Run one node call as a Ray task and wait for it: :meth:`submit_call`, then
        :meth:`result` (the same shape as :meth:`ProcessPool.call`).

        Args:
            fn, arg, options: as for :meth:`submit_call` (``arg`` from :meth:`input_for`).
            node, attempt, run_id: named in the errors.
            submitted: called with the task's ObjectRef once it is submitted, so
                the caller can :meth:`abandon` it.

        Raises:
            As :meth:`result`; a pool already shut down is a ``TaskCancelledError``
            too, chained from :class:`~graphpool.errors.PoolShutDownError`.
        """
        try:
            ref = self.submit_call(fn, arg, options)
        except PoolShutDownError as exc:
            raise _dropped(node, attempt, run_id, str(exc)) from exc
        if submitted is not None:
            submitted(ref)
        return self.result(ref, node=node, attempt=attempt, run_id=run_id)

    def abandon(self, future: Any) -> None:
        """Cancel a Ray task (an ObjectRef); if it runs, its worker process is killed."""
        if self._ray is not None:
            with self._lock:
                self._cancelled.add(future.hex())
            self._count(cancelled=1)
            self._ray.cancel(future, force=True)

    def statistics(self) -> RayStatistics:
        """Counts of calls, puts, crashes and cancellations so far."""
        return self._stats

    def _count(self, **increments: int) -> None:
        with self._lock:
            fields = {k: getattr(self._stats, k) + v for k, v in increments.items()}
            self._stats = dataclasses.replace(self._stats, **fields)

    # -- Executor interface ------------------------------------------------------

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        if self._shutdown:
            raise PoolShutDownError(f"cannot submit to {self!r}: it is shut down")
        call = functools.partial(_without_input, functools.partial(fn, *args, **kwargs))
        future: concurrent.futures.Future[Any] = self.submit_call(call, None).future()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop using Ray; disconnect if this pool made the connection."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            ray, self._ray = self._ray, None
            self._inputs.clear()
        if ray is not None and self._owns_connection:
            ray.shutdown()


def _dropped(node: str, attempt: int, run_id: str, why: str) -> TaskCancelledError:
    return TaskCancelledError(
        f"Node {node!r} was not run to the end: {why} (attempt {attempt}, run {run_id}).",
        node=node,
        attempt=attempt,
        run_id=run_id,
    )


def _worker_lost(errors: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors for a task whose worker, machine or input went away."""
    names = (
        "WorkerCrashedError",
        "NodeDiedError",
        "LocalRayletDiedError",
        "OutOfMemoryError",
        "ObjectLostError",
        "TaskCancelledError",
    )
    return tuple(getattr(errors, n) for n in names if hasattr(errors, n))


_default: RayPool | None = None
_default_lock = threading.Lock()


def default_ray_pool() -> RayPool:
    """The process-wide Ray pool for nodes with ``executor="ray"`` (see :class:`RayPool`)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = RayPool()
    return _default
