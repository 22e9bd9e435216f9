"""A task call on a worker process (``executor="process"``) or as a Ray task (``"ray"``).

The task's function and arguments are pickled here, once, with cloudpickle (so
closures travel by value, as node calls do). A call that cannot be pickled
fails in the caller, before anything runs, with a
:class:`~graphpool.errors.SerializationError` that names the task and the
parameter holding the value at fault (``tests/func/test_remote.py``).
"""

from __future__ import annotations

import inspect
import pickle
from collections.abc import Callable
from typing import Any

from ..errors import SerializationError

__all__ = ["call_remote"]

_TARGETS = {"process": "a process worker", "ray": "Ray"}


def _apply(fn: Callable[..., Any], packed: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
    """How a process worker calls a task: ``fn(*args, **kwargs)``."""
    args, kwargs = packed
    return fn(*args, **kwargs)


def _run_pickled(payload: bytes, _input: Any) -> Any:
    """How a Ray worker calls a task: unpickle ``(fn, packed)`` and apply it."""
    import cloudpickle

    fn, packed = cloudpickle.loads(payload)
    return fn(packed)


def call_remote(
    spec: Any,
    kind: str,
    dispatcher: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    submitted: Callable[[Any], None] | None,
) -> Any:
    """Run ``spec``'s function with these arguments on the run's ``kind`` pool; wait.

    Raises:
        SerializationError: the function or an argument cannot be pickled.
        WorkerCrashedError: the worker process (or Ray worker) died.
        Exception: what the task raised, with its type.
    """
    import functools

    payload = _pickled(spec, kind, functools.partial(_apply, spec.func), (args, kwargs))
    run_id = str(dispatcher.lane)
    pool: Any = dispatcher.services.pools.of(kind)
    if kind == "process":
        return pool.call(
            payload, dispatcher.lane, node=spec.name, run_id=run_id, submitted=submitted
        )
    fn = functools.partial(_run_pickled, payload)
    return pool.call(fn, None, node=spec.name, run_id=run_id, submitted=submitted)


def _pickled(spec: Any, kind: str, fn: Any, packed: Any) -> bytes:
    import cloudpickle

    try:
        return bytes(cloudpickle.dumps((fn, packed), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception as exc:
        where = _culprit(spec.func, *packed)
        raise SerializationError(
            f"Cannot send task {spec.name!r} to {_TARGETS[kind]}: {where} cannot be pickled "
            f"({type(exc).__name__}: {exc}). Use executor='thread' for this task, or pass "
            "values that pickle.",
            node=spec.name,
        ) from exc


def _culprit(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """Which part of a call fails to pickle: the function, or one named argument."""
    import cloudpickle

    try:
        cloudpickle.dumps(func)
    except Exception:
        return "its function"
    for name, value in _named(func, args, kwargs):
        try:
            cloudpickle.dumps(value)
        except Exception:
            return f"argument {name!r} ({type(value).__name__})"
    return "its arguments"


def _named(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
    """The call's arguments by parameter name (by position where names are unknown)."""
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return [*((f"#{i}", a) for i, a in enumerate(args)), *kwargs.items()]
    named: list[tuple[str, Any]] = []
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            named.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            named.extend(value.items())
        else:
            named.append((name, value))
    return named
