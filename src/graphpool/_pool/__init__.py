"""Worker pools: where tasks run. One module per kind behind one small interface."""

from ._async import AsyncPool
from ._base import Pools, WorkerPool
from ._process import ProcessPool, default_process_pool
from ._thread import ThreadPool, default_pool

__all__ = [
    "AsyncPool",
    "Pools",
    "ProcessPool",
    "ThreadPool",
    "WorkerPool",
    "default_pool",
    "default_process_pool",
]
