"""Worker pools: where tasks run. One module per kind behind one small interface.

The process, Ray and async pools are imported on first use, so a program that
runs only thread nodes never loads multiprocessing, Ray or asyncio for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names
from ._base import WorkerPool
from ._pools import Pools
from ._registry import Job, NodeRunner, known_executors, register_runner
from ._thread import ThreadPool, default_pool

if TYPE_CHECKING:
    from ._async import AsyncPool
    from ._process import ProcessPool, default_process_pool
    from ._ray import RayPool, RayStatistics, default_ray_pool

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

_LAZY = {
    "AsyncPool": "._async",
    "ProcessPool": "._process",
    "default_process_pool": "._process",
    "RayPool": "._ray",
    "RayStatistics": "._ray",
    "default_ray_pool": "._ray",
}


__getattr__ = lazy_names(__name__, _LAZY)
