"""Run options: the typed form of the ``config`` dict a caller passes to ``invoke``."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Mapping
from typing import Any

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
    """Validate an executor name (a built-in or registered runner kind), with an
    error that says where it came from."""
    kinds = known_executors()
    if value not in kinds:
        raise InvalidConfigError(
            f"{where}={value!r}: no such executor; choose one of {', '.join(map(repr, kinds))}."
        )
    return str(value)


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


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"config[{name!r}] must be a positive integer, got {value!r}.")
    return value


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
    """

    recursion_limit: int = DEFAULT_RECURSION_LIMIT
    max_concurrency: int | None = None
    run_id: str = ""
    config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    executor: str | None = None
    pool: Any = None
    admission_timeout: float | None = None
    observer: ObserverGroup = dataclasses.field(default_factory=ObserverGroup)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> RunOptions:
        config = dict(config or {})
        limit = config.get("recursion_limit", DEFAULT_RECURSION_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"recursion_limit must be at least 1, got {limit!r}.")
        workers = config.get("max_workers", config.get("max_concurrency"))
        if workers is not None:
            workers = _positive_int("max_workers", workers)
        pool = config.pop("pool", None)
        if pool is not None and not hasattr(pool, "admit"):
            raise ValueError(f"config['pool'] must be a graphpool WorkerPool, got {pool!r}.")
        admission = config.pop("admission_timeout", None)
        if admission is not None and (isinstance(admission, bool) or admission < 0):
            raise ValueError(f"config['admission_timeout'] must be >= 0, got {admission!r}.")
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
        run_id = str(config.get("run_id") or uuid.uuid4())
        return cls(limit, workers, run_id, config, executor, pool, admission, observer)

    def for_node(self, step: int, node: str, triggers: tuple[str, ...]) -> dict[str, Any]:
        """The config a node or route receives (a fresh dict, safe to modify).

        The caller's ``run_name`` and ``run_id`` name the whole run, so they are
        left out, as LangGraph leaves them out: passed on to a chat model they
        would give every model call of the run the same run id.
        """
        config = {k: v for k, v in self.config.items() if k not in _RUN_ONLY_KEYS}
        config["metadata"] = {
            **(self.config.get("metadata") or {}),
            "langgraph_step": step,
            "langgraph_node": node,
            "langgraph_triggers": triggers,
            "langgraph_path": ("__pregel_pull", node),
            "graphpool_run_id": self.run_id,
        }
        return config
