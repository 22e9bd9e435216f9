"""graphpool: a LangGraph-compatible graph runtime whose nodes run on a worker pool.

Change ``from langgraph.graph import StateGraph, END`` to
``from graphpool import StateGraph, END`` and the graph runs here.
"""

import logging as _logging
from typing import TYPE_CHECKING

from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._constants import END, START
from ._lazy import lazy_names
from ._observe import RunObserver, TaskAttempt
from ._pool import ThreadPool, WorkerPool
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
    "Overwrite",
    "ParentCommand",
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
    "TaskAttempt",
    "TaskCancelledError",
    "ThreadBusyError",
    "ThreadPool",
    "Trace",
    "UnsupportedError",
    "WorkerCrashedError",
    "WorkerPool",
    "__version__",
    "interrupt",
    "serve_metrics",
]

_LAZY = {  # loaded on first use: ``import graphpool`` stays light
    "AsyncPool": "._pool._async",
    "ProcessPool": "._pool._process",
    "RayPool": "._pool._ray",
    "RayStatistics": "._pool._ray",
    "serve_metrics": "._pool._prometheus",
    "Trace": "._trace",
}


__getattr__ = lazy_names(__name__, _LAZY)


if TYPE_CHECKING:
    from ._pool._async import AsyncPool
    from ._pool._process import ProcessPool
    from ._pool._prometheus import serve_metrics
    from ._pool._ray import RayPool, RayStatistics
    from ._trace import Trace

# A library stays silent unless the application configures logging.
_logging.getLogger("graphpool").addHandler(_logging.NullHandler())
