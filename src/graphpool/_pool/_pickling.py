"""Pickling node calls for other processes: process workers and Ray tasks.

Both kinds send a node's function and its input with cloudpickle, so closures
and lambdas travel by value. A call that cannot be pickled fails here, in the
host, before anything runs, with a :class:`~graphpool.SerializationError` that
names the node and the culprit: its function, or the state key holding the
value that cannot be sent.

The only bytes ever unpickled here are results made by graphpool's own
workers (:func:`loads_from_worker`); nothing read from storage comes this way.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import SerializationError

__all__ = ["culprit", "dumps_for_worker", "loads_from_worker", "pickled_size"]


def dumps_for_worker(node: str, fn: Callable[..., Any], arg: Any) -> bytes:
    """Pickle the call ``fn(arg)`` of ``node`` for a process worker.

    Raises:
        SerializationError: ``fn`` or ``arg`` cannot be pickled (names the culprit).
    """
    import cloudpickle

    try:
        return cloudpickle.dumps((fn, arg), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise _unpicklable(node, "a process worker", fn, arg, exc) from exc


def loads_from_worker(data: bytes) -> Any:
    """Unpickle what a graphpool worker sent back (bytes made by our own worker)."""
    import cloudpickle

    return cloudpickle.loads(data)


def pickled_size(node: str, fn: Any, arg: Any) -> int:
    """Size in bytes of ``(fn, arg)`` pickled as Ray pickles (cloudpickle, protocol 5).

    Out-of-band buffers (numpy arrays and the like) are counted, not copied:
    Ray decides by this size whether an input travels inside the task or
    through its object store.

    Raises:
        SerializationError: ``fn`` or ``arg`` cannot be pickled (names the culprit).
    """
    import cloudpickle

    buffers: list[pickle.PickleBuffer] = []
    try:
        size = len(cloudpickle.dumps((fn, arg), protocol=5, buffer_callback=buffers.append))
    except Exception as exc:
        raise _unpicklable(node, "Ray", fn, arg, exc) from exc
    return size + sum(memoryview(b).nbytes for b in buffers)


def culprit(fn: Any, arg: Any) -> str:
    """Which part of a call fails to pickle: ``"its function"``, one state key, or its input."""
    import cloudpickle

    try:
        cloudpickle.dumps(fn)
    except Exception:
        return "its function"
    if isinstance(arg, Mapping):
        items = list(arg.items())
    else:
        items = list(getattr(arg, "__dict__", {}).items())
    for key, value in items:
        try:
            cloudpickle.dumps(value)
        except Exception:
            return f"state key {key!r} ({type(value).__name__})"
    return "its input"


def _unpicklable(node: str, target: str, fn: Any, arg: Any, exc: Exception) -> SerializationError:
    return SerializationError(
        f"Cannot send node {node!r} to {target}: {culprit(fn, arg)} cannot be pickled "
        f"({type(exc).__name__}: {exc}). Use executor='thread' for this node, or keep such "
        "objects out of the state.",
        node=node,
    )
