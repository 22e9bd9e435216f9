"""graphpool: a LangGraph-compatible graph runtime whose nodes run on a worker pool.

Change ``from langgraph.graph import StateGraph, END`` to
``from graphpool import StateGraph, END`` and the graph runs here.
"""

import logging as _logging

from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._constants import END, START
from ._observe import RunObserver, TaskAttempt
from ._pool import ThreadPool, WorkerPool
from ._trace import Trace
from ._version import __version__
from .errors import (
    GraphpoolError,
    GraphRecursionError,
    InternalError,
    InvalidGraphError,
    InvalidNodeError,
    InvalidRouteError,
    InvalidUpdateError,
    MissingRendererError,
    NodeError,
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
    "MissingRendererError",
    "NodeError",
    "Overwrite",
    "RetryPolicy",
    "RunObserver",
    "Send",
    "StateGraph",
    "TaskAttempt",
    "ThreadPool",
    "Trace",
    "WorkerPool",
    "__version__",
]

# A library stays silent unless the application configures logging.
_logging.getLogger("graphpool").addHandler(_logging.NullHandler())
