"""``@task``: a function whose calls inside an entrypoint or a node return futures.

Drop-in for ``langgraph.func.task``: ``@task``, ``@task()`` or ``@task(name=...,
retry_policy=..., cache_policy=..., timeout=...)``; graphpool adds
``executor=`` ("thread", "process" or "ray") for where a sync task runs.
"""

from __future__ import annotations

import datetime
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, overload

from ..errors import InvalidGraphError, UnsupportedError
from ..types import CachePolicy, RetryPolicy, TimeoutPolicy
from ._call import start_call
from ._future import TaskFuture

__all__ = ["task"]

T = TypeVar("T")
_NAMESPACE = "__graphpool_task__"
_REMOTE = ("process", "ray")
_EXECUTORS = (None, "thread", *_REMOTE)


def _seconds(timeout: float | datetime.timedelta | TimeoutPolicy | None) -> float | None:
    """A task's limit in seconds: a ``TimeoutPolicy``'s tighter limit (no heartbeat
    reaches a task call, so its idle limit is a plain one)."""
    if isinstance(timeout, TimeoutPolicy):
        limits = [t for t in (timeout.run_timeout, timeout.idle_timeout) if t is not None]
        return min(limits) if limits else None
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return timeout


def _name_of(func: Any) -> str:
    """A task's default name: the function's (through ``functools.partial``)."""
    while isinstance(func, functools.partial) and not hasattr(func, "__name__"):
        func = func.func
    return str(getattr(func, "__name__", type(func).__name__))


class _TaskFunction(Generic[T]):
    """A ``@task`` function: calling it starts the task and returns a :class:`TaskFuture`."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        retry_policy: Sequence[RetryPolicy],
        cache_policy: CachePolicy | None = None,
        timeout: float | datetime.timedelta | TimeoutPolicy | None = None,
        name: str | None = None,
        executor: str | None = None,
    ) -> None:
        if name is not None:
            method: Any = func
            if hasattr(method, "__func__"):  # a bound method: rename a copy, not the method
                bound = functools.partial(method.__func__, method.__self__)
                bound.__name__ = name  # type: ignore[attr-defined]
                func = bound
            else:
                func.__name__ = name
        self.func = func
        self.name = _name_of(func)
        self.retry_policy = tuple(retry_policy)
        self.cache_policy = cache_policy
        self.timeout = _seconds(timeout)
        self.executor = executor
        self.is_async = inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
            getattr(func, "__call__", None)  # noqa: B004
        )
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<task {self.name!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> TaskFuture[T]:
        return start_call(self, args, kwargs)

    # -- what a call needs (``_call``) -------------------------------------------

    def call_sync(
        self,
        call: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        submitted: Callable[[Any], None] | None = None,
    ) -> Any:
        """Run the function once, here, on a worker process or as a Ray task
        (``submitted`` is given the remote call's handle, so a timeout can kill it).

        Raises:
            SerializationError: a remote call whose function or an argument cannot
                be pickled; it names the task and the argument.
        """
        kind = self.executor_in(call.dispatcher.run)
        if kind == "thread":
            return self.func(*args, **kwargs)
        from ._remote import call_remote

        return call_remote(self, kind, call.dispatcher, args, kwargs, submitted)

    def executor_in(self, run: Any) -> str:
        """Where a sync call runs in ``run``: the task's ``executor=``, else the run's
        ``config["executor"]``, else the entrypoint's default; ``"process"``,
        ``"ray"`` or threads."""
        chosen = self.executor or run.options.executor or run.topology.default_executor
        return chosen if chosen in _REMOTE else "thread"

    def retry_delay(self, error: Exception, attempt: int) -> float | None:
        """Seconds before attempt ``attempt + 1``, or None: give up."""
        for policy in self.retry_policy:
            if policy.should_retry(error, attempt):
                return policy.delay(attempt)
        return None

    def cache_key(self, args: Any, kwargs: Any, cache: Any) -> Any:
        """This call's cache key, or None when it is not cached."""
        if self.cache_policy is None or cache is None:
            return None
        from ..cache import task_key

        return ((_NAMESPACE, self.name), task_key(self.cache_policy, *args, **kwargs))

    def clear_cache(self, cache: Any) -> None:
        """Forget this task's cached results in ``cache``."""
        if self.cache_policy is not None:
            cache.clear([(_NAMESPACE, self.name)])

    async def aclear_cache(self, cache: Any) -> None:
        """:meth:`clear_cache` for async code."""
        if self.cache_policy is not None:
            await cache.aclear([(_NAMESPACE, self.name)])


def _policies(given: RetryPolicy | Sequence[RetryPolicy] | None) -> tuple[RetryPolicy, ...]:
    if given is None:
        return ()
    if isinstance(given, RetryPolicy):
        return (given,)
    return tuple(given)


@overload
def task(
    __func_or_none__: None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy | None = None,
    timeout: float | datetime.timedelta | TimeoutPolicy | None = None,
    executor: str | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], _TaskFunction[Any]]: ...


@overload
def task(__func_or_none__: Callable[..., Any]) -> _TaskFunction[Any]: ...


def task(
    __func_or_none__: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy | None = None,
    timeout: float | datetime.timedelta | TimeoutPolicy | None = None,
    executor: str | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], _TaskFunction[Any]] | _TaskFunction[Any]:
    """Make a function a task: called inside an ``@entrypoint`` (or a graph node) it
    starts at once on the run's pool and returns a :class:`TaskFuture`.

    With a checkpointer each finished call's result is saved as it finishes; the
    entrypoint that runs again after an interrupt or a crash gets saved results
    back instead of running those calls again.

    Args:
        name: the task's name in streams and checkpoints (default: the function's).
        retry_policy: retry failed calls (one policy or several, tried in turn).
        cache_policy: reuse results by argument key, in the entrypoint's ``cache``.
        timeout: seconds (or a ``timedelta``) one attempt may run; past it the
            call fails with :class:`~graphpool.errors.NodeTimeoutError` (retried if
            the policy says so). An async attempt is cancelled, a process worker
            is killed; a thread cannot be stopped: it finishes, its result dropped.
            A :class:`~graphpool.types.TimeoutPolicy` gives the tighter of its
            limits: a task call has no heartbeat, so its ``idle_timeout`` is never
            refreshed.
        executor: graphpool's: ``"thread"`` (default), ``"process"`` (a worker
            process of the run's process pool) or ``"ray"`` (a Ray task on the
            run's Ray pool) for a sync task. A process or Ray call's function and
            arguments are pickled; one that cannot be fails with
            :class:`~graphpool.errors.SerializationError` naming the task and the
            argument.

    Raises:
        UnsupportedError: a generator function (a ``NotImplementedError``).
        InvalidGraphError: an async function with ``executor="process"`` or ``"ray"``, an
            unknown executor or argument.
        NotInNodeError: (when called) outside an entrypoint or a node.
    """
    retry = kwargs.pop("retry", None)
    if kwargs:
        raise InvalidGraphError(f"task() got unexpected arguments {sorted(kwargs)}.")
    policies = _policies(retry_policy if retry_policy is not None else retry)

    def decorator(func: Callable[..., Any]) -> _TaskFunction[Any]:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise UnsupportedError("Generators are not supported in the Functional API.")
        made: _TaskFunction[Any] = _TaskFunction(
            func,
            retry_policy=policies,
            cache_policy=cache_policy,
            timeout=timeout,
            name=name,
            executor=executor,
        )
        if executor not in _EXECUTORS:
            raise InvalidGraphError(
                f"task {made.name!r}: executor={executor!r}; tasks run on "
                '"thread", "process" or "ray".'
            )
        if made.is_async and executor not in (None, "thread"):
            raise InvalidGraphError(
                f"task {made.name!r}: executor={executor!r} takes sync functions only."
            )
        return made

    if __func_or_none__ is not None:
        return decorator(__func_or_none__)
    return decorator
