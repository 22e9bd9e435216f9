"""graphpool: a LangGraph-compatible graph runtime whose nodes run on a worker pool.

Change ``from langgraph.graph import StateGraph, END`` to
``from graphpool import StateGraph, END`` and the graph runs here.
"""

from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._constants import END, START
from ._pool import ThreadPool, WorkerPool
from ._version import __version__
from .errors import (
    CheckpointError,
    EmptyInputError,
    GraphInterrupt,
    GraphpoolError,
    GraphRecursionError,
    InternalError,
    InvalidConfigError,
    InvalidGraphError,
    InvalidNodeError,
    InvalidResumeError,
    InvalidRouteError,
    InvalidUpdateError,
    NodeError,
    SerializationError,
    ThreadBusyError,
)
from .types import Command, Interrupt, Overwrite, RetryPolicy, Send, interrupt

__all__ = [
    "END",
    "START",
    "CheckpointError",
    "Command",
    "CompiledStateGraph",
    "EmptyInputError",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphpoolError",
    "InternalError",
    "Interrupt",
    "InvalidConfigError",
    "InvalidGraphError",
    "InvalidNodeError",
    "InvalidResumeError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "NodeError",
    "Overwrite",
    "RetryPolicy",
    "Send",
    "SerializationError",
    "StateGraph",
    "ThreadBusyError",
    "ThreadPool",
    "WorkerPool",
    "__version__",
    "interrupt",
]
