"""Run options: the typed form of the ``config`` dict a caller passes to ``invoke``."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Mapping
from random import getrandbits as _getrandbits
from typing import Any

from ._checks import check_choice, check_positive_int, check_seconds
from ._constants import DEFAULT_RECURSION_LIMIT
from ._observe import ObserverGroup, RunObserver
from ._pool._registry import known_executors
from .errors import InvalidConfigError

__all__ = ["RunOptions"]

# Keys LangGraph's RunnableConfig defines at the top level; anything else a caller
# puts there is moved into ``configurable``, as LangGraph does.
_TOP_LEVEL_KEYS = frozenset(
    {
        "tags",
        "metadata",
        "callbacks",
        "run_name",
        "max_concurrency",
        "recursion_limit",
        "configurable",
        "run_id",
    }
)


def check_executor(value: Any, where: str) -> str:
    """Validate a run's executor name; the error names the value and the choices.

    Raises:
        InvalidConfigError: not a built-in or registered executor (``compile()`` and
            ``add_node`` raise ``InvalidGraphError`` for the same mistake at
            build time; both are ``ValueError``).
    """
    return check_choice(value, where, InvalidConfigError, known_executors())


def _observers(config: dict[str, Any]) -> ObserverGroup:
    """Take the ``trace`` and ``observer`` keys out of ``config`` (a mutable copy).

    ``trace``: a :class:`~graphpool.Trace`, or a path where a new one writes
    the run's Chrome trace JSON when the run ends. ``observer``: a
    :class:`~graphpool.RunObserver` or a sequence of them.

    Raises:
        InvalidConfigError: a value of the wrong type, named in the message
            (also a ``TypeError``).
    """
    from ._trace import Trace

    found: list[RunObserver] = []
    trace = config.pop("trace", None)
    if isinstance(trace, (str, os.PathLike)):
        trace = Trace(trace)
    if trace is not None:
        if not isinstance(trace, Trace):
            raise InvalidConfigError(
                f"config['trace'] must be a file path or a graphpool.Trace, got {trace!r}."
            )
        found.append(trace)
    given = config.pop("observer", None)
    if given is not None:
        items = [given] if isinstance(given, RunObserver) else list(given)
        for item in items:
            if not isinstance(item, RunObserver):
                raise InvalidConfigError(
                    f"config['observer'] must be a graphpool.RunObserver or a list of "
                    f"them, got {item!r}."
                )
        found.extend(items)
    return ObserverGroup(found)


_RUN_ONLY_KEYS = frozenset({"run_name", "run_id"})


def _new_run_id() -> str:
    """A random (version 4) UUID naming a run.

    From ``random``, not ``os.urandom`` like ``uuid.uuid4()``: a run id is a
    name, not a secret, and the ``getrandom`` system call lets go of the GIL,
    which on a busy pool hands the caller's thread over to a worker and back
    once per invoke. ``random`` is reseeded in forked children. Formatted here
    rather than by ``uuid.UUID``, which costs a few microseconds per run.
    """
    h = "%032x" % (_getrandbits(128) & _V4_CLEAR | _V4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# the version (4) and variant (RFC 4122) bits of a version 4 UUID, as uuid.UUID sets them
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_V4_SET = (4 << 76) | (0x8000 << 48)


def _check_types(config: Mapping[str, Any]) -> None:
    """Refuse LangGraph's top-level keys holding a value of the wrong type."""
    for key, kinds, expected in _TYPED_KEYS:
        value = config.get(key)
        if value is not None and not isinstance(value, kinds) and not _is_uuid(key, value):
            raise InvalidConfigError(
                f"config[{key!r}]={value!r}: expected {expected}, got a {type(value).__name__}."
            )
    tags = config.get("tags")
    if tags is not None and not all(isinstance(t, str) for t in tags):
        raise InvalidConfigError(f"config['tags']={tags!r}: every tag must be a str.")


_TYPED_KEYS: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("configurable", Mapping, "a dict"),
    ("metadata", Mapping, "a dict"),
    ("tags", (list, tuple), "a list of str"),
    ("run_name", str, "a str"),
    ("run_id", str, "a str or uuid.UUID"),
)


def _is_uuid(key: str, value: Any) -> bool:
    # a uuid.UUID run id; checked without importing uuid (a UUID means it is loaded)
    uuid = sys.modules.get("uuid")
    return key == "run_id" and uuid is not None and isinstance(value, uuid.UUID)


_NODE_KEYS = ("langgraph_step", "langgraph_node", "langgraph_triggers", "langgraph_path")

_SHOWN_IN_METADATA = (
    "thread_id",
    "checkpoint_id",
    "checkpoint_ns",
    "task_id",
    "run_id",
    "assistant_id",
    "graph_id",
)
"""``configurable`` keys a node's metadata (and so a ``messages`` chunk's) shows too."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What one run needs to know from its config.

    Attributes:
        recursion_limit: most supersteps a run may take (LangGraph's default 10007).
        max_concurrency: most tasks of this run running at once; None is no limit
            beyond the pool's own size. Set by ``max_workers`` (the spec's key) or
            ``max_concurrency`` (LangGraph's key).
        run_id: the run's id, shown in errors and events.
        executor: where nodes without an ``executor=`` of their own run in this
            run (``config["executor"]``); overrides the ``compile()`` default.
        pool: a :class:`~graphpool.WorkerPool` for this run (``config["pool"]``);
            overrides ``compile(pool=...)``.
        admission_timeout: seconds to wait for room in a bounded pool before
            ``PoolSaturatedError`` (``config["admission_timeout"]``; 0 refuses at
            once, None waits as long as it takes).
        config: the caller's config, normalised, as handed to nodes.
        observer: who is told about the run's steps and task attempts
            (``config["trace"]``, ``config["observer"]`` and the ``graphpool`` logger).
        callbacks: the run's langchain-core callback runs, when its config has
            ``callbacks`` (see ``_lc_callbacks``); else None.
    """

    recursion_limit: int = DEFAULT_RECURSION_LIMIT
    max_concurrency: int | None = None
    run_id: str = ""
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    executor: str | None = None
    pool: Any = None
    admission_timeout: float | None = None
    observer: ObserverGroup = dataclasses.field(default_factory=ObserverGroup)
    callbacks: Any = None  # _lc_callbacks.GraphCallbacks: the config has langchain callbacks

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> RunOptions:
        """Check and normalise a caller's ``config``.

        Raises:
            InvalidConfigError: a key holds a value of the wrong type or out of
                range; the message names the key and the value.
        """
        if config is not None and not isinstance(config, Mapping):
            raise InvalidConfigError(
                f"config={config!r}: expected a dict (a RunnableConfig), got a "
                f"{type(config).__name__}."
            )
        if not config:  # the usual call: nothing to check
            config = {"configurable": {}, "recursion_limit": DEFAULT_RECURSION_LIMIT}
            return cls(
                DEFAULT_RECURSION_LIMIT, None, _new_run_id(), config, observer=ObserverGroup()
            )
        config = dict(config)
        _check_types(config)
        limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        limit = check_positive_int(limit, "config['recursion_limit']", InvalidConfigError)
        workers = None
        for key in ("max_concurrency", "max_workers"):
            if config.get(key) is not None:
                workers = check_positive_int(config[key], f"config[{key!r}]", InvalidConfigError)
        pool = config.pop("pool", None)
        if pool is not None and not hasattr(pool, "admit"):
            raise InvalidConfigError(
                f"config['pool']={pool!r}: expected a graphpool ThreadPool, ProcessPool or "
                "AsyncPool."
            )
        admission = config.pop("admission_timeout", None)
        if admission is not None:
            admission = check_seconds(
                admission, "config['admission_timeout']", InvalidConfigError, zero=True
            )
        executor = config.pop("executor", None)
        if executor is not None:
            check_executor(executor, "config['executor']")
        observer = _observers(config)
        configurable = dict(config.get("configurable") or {})
        for key in list(config):
            if key not in _TOP_LEVEL_KEYS:
                configurable.setdefault(key, config.pop(key))
        config["configurable"] = configurable
        config["recursion_limit"] = limit
        run_id = str(config.get("run_id") or _new_run_id())
        return cls(limit, workers, run_id, config, executor, pool, admission, observer)

    @functools.cached_property
    def _for_nodes(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """What every node's config starts from: the config without the run-only
        keys, and the caller's metadata (worked out once per run)."""
        base = {k: v for k, v in self.config.items() if k not in _RUN_ONLY_KEYS}
        metadata = dict(self.config.get("metadata") or {})
        configurable = self.config.get("configurable") or {}
        for key in _SHOWN_IN_METADATA:  # as LangGraph copies them, for stream readers
            if key not in metadata and configurable.get(key):
                metadata[key] = configurable[key]
        # each node's metadata: these, then its step, node, triggers and path (for_node)
        metadata.update(dict.fromkeys(_NODE_KEYS), graphpool_run_id=self.run_id)
        return base, metadata

    def for_node(self, step: int, node: str, triggers: tuple[str, ...]) -> dict[str, Any]:
        """The config a node or route receives (a fresh dict, safe to modify).

        The caller's ``run_name`` and ``run_id`` name the whole run, so they are
        left out, as LangGraph leaves them out: passed on to a chat model they
        would give every model call of the run the same run id.
        """
        base, metadata = self._for_nodes
        config = base.copy()
        config["metadata"] = metadata = metadata.copy()
        metadata["langgraph_step"] = step
        metadata["langgraph_node"] = node
        metadata["langgraph_triggers"] = triggers
        metadata["langgraph_path"] = ("__pregel_pull", node)
        if self.callbacks is not None:  # the node's own callback run, as LangGraph's
            self.callbacks.bind(config)
        return config
