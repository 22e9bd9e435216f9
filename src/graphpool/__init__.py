"""graphpool: a LangGraph-compatible graph runtime whose nodes run on a worker pool.

Change ``from langgraph.graph import StateGraph, END`` to
``from graphpool import StateGraph, END`` and the graph runs here.
"""

import logging as _logging
from typing import TYPE_CHECKING

from . import _env
from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._constants import END, START
from ._lazy import lazy_names
from ._observe import RunObserver, TaskAttempt
from ._pool import ThreadPool, WorkerPool, default_pool
from ._pool._stats import PoolStats
from ._version import __version__
from .errors import (
    CheckpointError,
    CheckpointNotFoundError,
    EmptyInputError,
    GraphDrained,
    GraphInterrupt,
    GraphpoolError,
    GraphRecursionError,
    InternalError,
    InvalidCheckpointerError,
    InvalidConfigError,
    InvalidGraphError,
    InvalidMessagesError,
    InvalidNamespaceError,
    InvalidNodeError,
    InvalidPoolConfigError,
    InvalidResumeError,
    InvalidRouteError,
    InvalidUpdateError,
    MissingRendererError,
    MissingStateKeyError,
    NodeCancelledError,
    NodeError,
    NodeTimeoutError,
    NotInNodeError,
    ParentCommand,
    PoolSaturatedError,
    PoolShutDownError,
    ReducerError,
    RenderError,
    SavedFailure,
    SerializationError,
    StepTimeoutError,
    TaskCancelledError,
    ThreadBusyError,
    UnsupportedError,
    WorkerCrashedError,
)
from .types import CachePolicy, Command, Interrupt, Overwrite, RetryPolicy, Send, interrupt

__all__ = [
    "END",
    "START",
    "AsyncPool",
    "CachePolicy",
    "CheckpointError",
    "CheckpointNotFoundError",
    "Command",
    "CompiledStateGraph",
    "EmptyInputError",
    "GraphDrained",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphpoolError",
    "InternalError",
    "Interrupt",
    "InvalidCheckpointerError",
    "InvalidConfigError",
    "InvalidGraphError",
    "InvalidMessagesError",
    "InvalidNamespaceError",
    "InvalidNodeError",
    "InvalidPoolConfigError",
    "InvalidResumeError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "MissingRendererError",
    "MissingStateKeyError",
    "NodeCancelledError",
    "NodeError",
    "NodeTimeoutError",
    "NotInNodeError",
    "OpenTelemetryObserver",
    "Overwrite",
    "ParentCommand",
    "PoolCollector",
    "PoolSaturatedError",
    "PoolShutDownError",
    "PoolStats",
    "ProcessPool",
    "RayPool",
    "RayStatistics",
    "ReducerError",
    "RenderError",
    "RetryPolicy",
    "RunObserver",
    "SavedFailure",
    "Send",
    "SerializationError",
    "StateGraph",
    "StepTimeoutError",
    "TaskAttempt",
    "TaskCancelledError",
    "ThreadBusyError",
    "ThreadPool",
    "Trace",
    "UnsupportedError",
    "WorkerCrashedError",
    "WorkerPool",
    "__version__",
    "default_pool",
    "default_process_pool",
    "interrupt",
    "serve_metrics",
]

_LAZY = {  # loaded on first use: ``import graphpool`` stays light
    "AsyncPool": "._pool._async",
    "ProcessPool": "._pool._process",
    "RayPool": "._pool._ray",
    "RayStatistics": "._pool._ray",
    "serve_metrics": "._pool._prometheus",
    "PoolCollector": "._pool._prometheus",
    "default_process_pool": "._pool._process",
    "Trace": "._trace",
    "OpenTelemetryObserver": "._otel",
}


__getattr__ = lazy_names(__name__, _LAZY)


if TYPE_CHECKING:
    from ._otel import OpenTelemetryObserver
    from ._pool._async import AsyncPool
    from ._pool._process import ProcessPool, default_process_pool
    from ._pool._prometheus import PoolCollector, serve_metrics
    from ._pool._ray import RayPool, RayStatistics
    from ._trace import Trace

# GRAPHPOOL_* variables for the default pools: a bad value fails here, named.
_env.settings()

# A library stays silent unless the application configures logging.
_logging.getLogger("graphpool").addHandler(_logging.NullHandler())
