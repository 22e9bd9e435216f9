"""Worker pools: where tasks run. One module per kind behind one small interface."""

from ._base import WorkerPool
from ._thread import ThreadPool, default_pool

__all__ = ["ThreadPool", "WorkerPool", "default_pool"]
