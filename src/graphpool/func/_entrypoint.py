"""``@entrypoint``: a plain function run as a durable one-node graph.

As LangGraph does, the decorated function becomes a graph with one node named
after it. Here it is an ordinary graphpool graph whose state has three keys:
``input`` (what the caller passed), ``output`` (what the function returned) and
``previous`` (what it saved for the thread's next run, ``entrypoint.final``'s
``save``). :class:`Entrypoint` turns calls and chunks between the two shapes,
so callers see LangGraph's: the return value, ``{name: value}`` updates, and
updates of each ``@task`` call as it finishes.
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypedDict, TypeVar

from .._constants import END, START
from .._context import CURRENT
from ..errors import GraphInterrupt, InvalidGraphError, UnsupportedError
from ..types import CachePolicy, RetryPolicy
from ._call import asettle, cancel_pending, settle
from ._workflow import Entrypoint

__all__ = ["entrypoint"]

R = TypeVar("R")
S = TypeVar("S")
V = TypeVar("V")
INJECTED = ("config", "writer", "store", "runtime", "previous")


class _State(TypedDict, total=False):
    input: Any
    output: Any
    previous: Any


class _Input(TypedDict, total=False):
    input: Any


class _Output(TypedDict, total=False):
    output: Any


def _node_for(func: Callable[..., Any], final: Any) -> Callable[..., Any]:
    """The graph node that calls ``func`` with its input and the parameters it asks for."""
    params = inspect.signature(func).parameters
    wants = [name for name in INJECTED if name in list(params)[1:]]

    def arguments(state: dict[str, Any], config: Any, runtime: Any) -> dict[str, Any]:
        previous = state.get("previous")
        given = {
            "config": config,
            "writer": runtime.stream_writer,
            "store": runtime.store,
            "runtime": runtime.override(previous=previous),
            "previous": previous,
        }
        return {name: given[name] for name in wants}

    def written(value: Any) -> dict[str, Any]:
        if isinstance(value, final):
            return {"output": value.value, "previous": value.save}
        return {"output": value, "previous": value}

    if inspect.iscoroutinefunction(func):

        async def anode(state: dict[str, Any], config: Any, runtime: Any) -> dict[str, Any]:
            job = CURRENT.get()
            try:
                value = await func(state.get("input"), **arguments(state, config, runtime))
            except GraphInterrupt as exc:
                raise (await asettle(job, exc) or exc) from None
            except BaseException:
                cancel_pending(job)  # nothing the failed run started outlives it
                await asettle(job, None)
                raise
            paused = await asettle(job, None)
            if paused is not None:
                raise paused
            return written(value)

        anode.__name__ = func.__name__
        return anode

    def node(state: dict[str, Any], config: Any, runtime: Any) -> dict[str, Any]:
        job = CURRENT.get()
        try:
            value = func(state.get("input"), **arguments(state, config, runtime))
        except GraphInterrupt as exc:
            raise (settle(job, exc) or exc) from None
        except BaseException:
            cancel_pending(job)  # nothing the failed run started outlives it
            settle(job, None)
            raise
        paused = settle(job, None)
        if paused is not None:
            raise paused
        return written(value)

    node.__name__ = func.__name__
    return node


class entrypoint(Generic[R]):
    """Make a function a workflow: ``@entrypoint(checkpointer=...)``.

    The function takes one input (and may ask for ``config``, ``writer``,
    ``store``, ``runtime`` and ``previous``, its return value from the thread's
    last run) and calls ``@task`` functions, whose futures it waits on. The result
    is an :class:`Entrypoint` with ``invoke``, ``stream``, ``get_state`` and the
    rest of a compiled graph's methods.

    ``timeout`` bounds the function's run (seconds or a ``timedelta``). graphpool
    adds two keyword arguments: ``executor`` (where sync tasks without one of their
    own run: ``"thread"``, ``"process"`` or ``"ray"``; a run's ``config["executor"]``
    overrides it) and ``pool`` (a :class:`~graphpool.ThreadPool` its runs share
    with others).

    Raises:
        UnsupportedError: a generator function (a ``NotImplementedError``).
        InvalidGraphError: a function without parameters.
    """

    def __init__(
        self,
        checkpointer: Any = None,
        store: Any = None,
        cache: Any = None,
        context_schema: type[Any] | None = None,
        cache_policy: CachePolicy | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        timeout: float | datetime.timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        context_schema = context_schema or kwargs.pop("config_schema", None)
        retry_policy = retry_policy or kwargs.pop("retry", None)
        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds()
        self.timeout = timeout
        self.executor = kwargs.pop("executor", None)
        self.pool = kwargs.pop("pool", None)
        if kwargs:
            raise InvalidGraphError(f"entrypoint() got unexpected arguments {sorted(kwargs)}.")
        self.checkpointer = checkpointer
        self.store = store
        self.cache = cache
        self.context_schema = context_schema
        self.cache_policy = cache_policy
        self.retry_policy = retry_policy

    @dataclasses.dataclass(frozen=True)
    class final(Generic[V, S]):
        """Return ``value`` to the caller and save ``save`` as the next run's ``previous``."""

        value: V
        save: S

    def __call__(self, func: Callable[..., Any]) -> Entrypoint:
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise UnsupportedError("Generators are not supported in the Functional API.")
        if not inspect.signature(func).parameters:
            raise InvalidGraphError("Entrypoint function must have at least one parameter")
        from .._builder import StateGraph

        name = func.__name__
        builder = StateGraph(
            _State, self.context_schema, input_schema=_Input, output_schema=_Output
        )
        builder.add_node(
            name,
            _node_for(func, entrypoint.final),
            retry_policy=self.retry_policy,
            cache_policy=self.cache_policy,
            # the function itself stays in this process, where its tasks are
            # started from; ``executor=`` is where its sync tasks run by default
            executor=None if inspect.iscoroutinefunction(func) else "thread",
        )
        builder.add_edge(START, name)
        builder.add_edge(name, END)
        graph = builder.compile(
            self.checkpointer,
            store=self.store,
            cache=self.cache,
            executor=self.executor,
            timeout=self.timeout,
            pool=self.pool,
        )
        graph.stream_every_key = False  # its values are its output, as LangGraph's
        return Entrypoint(graph, name, func, _node_for(func, entrypoint.final), entrypoint.final)
