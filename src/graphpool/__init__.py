"""graphpool: a LangGraph-compatible graph runtime whose nodes run on a worker pool.

Change ``from langgraph.graph import StateGraph, END`` to
``from graphpool import StateGraph, END`` and the graph runs here.
"""

from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._constants import END, START
from ._pool import ProcessPool, RayPool, RayStatistics, ThreadPool, WorkerPool
from ._version import __version__
from .errors import (
    GraphpoolError,
    GraphRecursionError,
    InternalError,
    InvalidGraphError,
    InvalidNodeError,
    InvalidRouteError,
    InvalidUpdateError,
    NodeError,
    NodeTimeoutError,
    SerializationError,
    WorkerCrashedError,
)
from .types import Command, Overwrite, RetryPolicy, Send

__all__ = [
    "END",
    "START",
    "Command",
    "CompiledStateGraph",
    "GraphRecursionError",
    "GraphpoolError",
    "InternalError",
    "InvalidGraphError",
    "InvalidNodeError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "NodeError",
    "NodeTimeoutError",
    "Overwrite",
    "ProcessPool",
    "RayPool",
    "RayStatistics",
    "RetryPolicy",
    "Send",
    "SerializationError",
    "StateGraph",
    "ThreadPool",
    "WorkerCrashedError",
    "WorkerPool",
    "__version__",
]
