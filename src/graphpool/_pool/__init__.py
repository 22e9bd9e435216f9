"""Worker pools: where tasks run. One module per kind behind one small interface."""

from ._async import AsyncPool
from ._base import WorkerPool
from ._pools import Pools
from ._process import ProcessPool, default_process_pool
from ._ray import RayPool, RayStatistics, default_ray_pool
from ._registry import Job, NodeRunner, known_executors, register_runner
from ._thread import ThreadPool, default_pool

__all__ = [
    "AsyncPool",
    "Job",
    "NodeRunner",
    "Pools",
    "ProcessPool",
    "RayPool",
    "RayStatistics",
    "ThreadPool",
    "WorkerPool",
    "default_pool",
    "default_process_pool",
    "default_ray_pool",
    "known_executors",
    "register_runner",
]
