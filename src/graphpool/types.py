"""Values a node or a route hands back to the runtime, as in ``langgraph.types``."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, NamedTuple, TypeVar, Union

from typing_extensions import TypedDict

from ._constants import END

if TYPE_CHECKING:
    from .errors import GraphpoolError

__all__ = [
    "CachePolicy",
    "CheckpointStreamPart",
    "Command",
    "CustomStreamPart",
    "DebugStreamPart",
    "GraphOutput",
    "Interrupt",
    "MessagesStreamPart",
    "Overwrite",
    "PregelTask",
    "RetryPolicy",
    "Send",
    "StateSnapshot",
    "StateUpdate",
    "StreamMode",
    "StreamPart",
    "TasksStreamPart",
    "TimeoutPolicy",
    "UpdatesStreamPart",
    "ValuesStreamPart",
    "default_cache_key",
    "default_retry_on",
    "interrupt",
]

StreamMode = Literal["values", "updates", "checkpoints", "tasks", "debug", "messages", "custom"]
"""What ``stream()`` yields: full state per step, each task's update, checkpoints,
task events, both, chat model tokens and new messages, or what nodes write.
(graphpool also takes ``"tools"``, LangGraph's tool-call events.)"""


class Send:
    """Run ``node`` in the next step with ``arg`` as its whole input.

    Returned from a conditional edge (or in ``Command.goto``) to fan out over
    data: ``[Send("worker", {"item": x}) for x in items]`` starts one task per
    item, each seeing only its own ``arg`` instead of the graph state.

    ``timeout`` (seconds, a ``timedelta`` or a :class:`TimeoutPolicy`) limits this
    task's attempts instead of the node's own timeout. It is not checkpointed: a
    resumed run runs a saved ``Send`` under the node's timeout.
    """

    __slots__ = ("arg", "node", "timeout")

    def __init__(self, node: str, arg: Any, *, timeout: Any = None) -> None:
        self.node = node
        self.arg = arg
        self.timeout = timeout
        if timeout is not None:
            from .errors import InvalidConfigError

            check_timeout(timeout, f"Send({node!r}): timeout", InvalidConfigError)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Send) and (self.node, self.arg, self.timeout) == (
            other.node,
            other.arg,
            other.timeout,
        )

    def __hash__(self) -> int:
        return hash(self.node)

    def __repr__(self) -> str:
        if self.timeout is None:
            return f"Send(node={self.node!r}, arg={self.arg!r})"
        return f"Send(node={self.node!r}, arg={self.arg!r}, timeout={self.timeout!r})"


N = TypeVar("N")


@dataclasses.dataclass(frozen=True)
class Command(Generic[N]):
    """Update the state and pick the next nodes in one return value.

    Generic like LangGraph's: ``-> Command[Literal["a", "b"]]`` on a node
    declares where it may go (drawn by ``get_graph()``).

    Attributes:
        update: a partial state update (dict, list of ``(key, value)`` pairs, or a
            state-schema instance), applied like a plain returned dict.
        goto: a node name, a :class:`Send`, or a sequence of them; routes in
            addition to the node's static edges. ``END`` routes nowhere.
        graph: ``None`` for the current graph; ``Command.PARENT`` is reserved for
            subgraphs and is not supported yet.
        resume: as the input of ``invoke``/``stream``, the value the pending
            :func:`interrupt` call returns when the run resumes; or a dict
            ``{interrupt_id: value}`` answering several pending interrupts.
    """

    graph: str | None = None
    update: Any | None = None
    resume: Any | None = None
    goto: Send | str | Sequence[Send | str] = ()

    PARENT: ClassVar[Literal["__parent__"]] = "__parent__"

    def __repr__(self) -> str:  # LangGraph's: only the fields that are set
        fields = (f.name for f in dataclasses.fields(self))
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in fields if getattr(self, k))
        return f"Command({shown})"

    def update_items(self) -> list[tuple[str, Any]]:
        """The update as ``(key, value)`` pairs (dict order, or list order)."""
        update = self.update
        if update is None:
            return []
        if isinstance(update, dict):
            return list(update.items())
        if isinstance(update, (list, tuple)) and all(
            isinstance(t, tuple) and len(t) == 2 and isinstance(t[0], str) for t in update
        ):
            return list(update)
        return [("__object__", update)]

    def goto_items(self) -> list[Send | str]:
        """The routing targets as a list, ``END`` removed."""
        goto = self.goto
        targets = [goto] if isinstance(goto, (Send, str)) else list(goto)
        return [t for t in targets if t != END]


@dataclasses.dataclass(frozen=True)
class Overwrite:
    """Write ``value`` to a key that has a reducer, bypassing the reducer."""

    value: Any


def default_retry_on(exc: Exception) -> bool:
    """LangGraph's default: retry transient failures, not programming errors.

    Connection errors and HTTP 5xx responses (any exception whose ``response``
    has a ``status_code`` in 500..599, as httpx and requests raise) are retried;
    the builtin errors that signal a bug (``ValueError``, ``TypeError``,
    ``LookupError``, ``OSError`` other than connection errors, ...) are not;
    anything else is. graphpool adds: a timeout (:class:`~graphpool.NodeTimeoutError`)
    and a dead worker (:class:`~graphpool.WorkerCrashedError`) are retried.
    """
    from .errors import NodeTimeoutError, WorkerCrashedError

    if isinstance(exc, (ConnectionError, NodeTimeoutError, WorkerCrashedError)):
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        return 500 <= status < 600
    return not isinstance(
        exc,
        (
            ValueError,
            TypeError,
            ArithmeticError,
            ImportError,
            LookupError,
            NameError,
            SyntaxError,
            RuntimeError,
            ReferenceError,
            StopIteration,
            StopAsyncIteration,
            OSError,
        ),
    )


def _is_exception_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


def _valid_retry_on(value: Any) -> bool:
    if _is_exception_class(value):
        return True
    if isinstance(value, Sequence) and not isinstance(value, str):
        return all(_is_exception_class(v) for v in value)
    return callable(value)


RetryOn = Union[type[Exception], Sequence[type[Exception]], Callable[[Exception], bool]]  # noqa: UP007 - evaluated at runtime on 3.10


class _RetryFields(NamedTuple):
    initial_interval: float = 0.5
    backoff_factor: float = 2.0
    max_interval: float = 128.0
    max_attempts: int = 3
    jitter: bool = True
    retry_on: RetryOn = default_retry_on


_P = TypeVar("_P", bound="RetryPolicy")


class RetryPolicy(_RetryFields):
    """How to retry a failing node; the same fields and defaults as LangGraph's.

    The wait before retry ``n`` (1-based) is
    ``min(max_interval, initial_interval * backoff_factor ** (n - 1))``, plus up
    to one second of random jitter when ``jitter`` is true.

    Still a ``NamedTuple`` (``_replace``, unpacking and equality work as in
    LangGraph), but each field is checked when the policy is made, so a mistake
    fails where it is written rather than at the first failure of a node.

    Raises:
        InvalidConfigError: ``max_attempts`` below 1 or not a whole number, an
            interval negative or not finite, ``backoff_factor`` below 1,
            ``jitter`` not a bool, or ``retry_on`` not an exception class, a
            sequence of them, or a callable. The message names the field.
    """

    __slots__ = ()

    def __new__(
        cls,
        initial_interval: float = 0.5,
        backoff_factor: float = 2.0,
        max_interval: float = 128.0,
        max_attempts: int = 3,
        jitter: bool = True,
        retry_on: RetryOn = default_retry_on,
    ) -> RetryPolicy:
        from ._checks import check_number, check_positive_int
        from .errors import InvalidConfigError

        initial_interval = check_number(
            initial_interval, "RetryPolicy: initial_interval", InvalidConfigError, at_least=0
        )
        backoff_factor = check_number(
            backoff_factor, "RetryPolicy: backoff_factor", InvalidConfigError, at_least=1
        )
        max_interval = check_number(
            max_interval, "RetryPolicy: max_interval", InvalidConfigError, at_least=0
        )
        max_attempts = check_positive_int(
            max_attempts, "RetryPolicy: max_attempts", InvalidConfigError
        )
        if not isinstance(jitter, bool):
            raise InvalidConfigError(f"RetryPolicy: jitter={jitter!r}: expected True or False.")
        if not _valid_retry_on(retry_on):
            raise InvalidConfigError(
                f"RetryPolicy: retry_on={retry_on!r}: expected an exception class, a sequence "
                "of them, or a function (exception) -> bool."
            )
        return super().__new__(
            cls, initial_interval, backoff_factor, max_interval, max_attempts, jitter, retry_on
        )

    def _replace(self: _P, **changes: Any) -> _P:
        """A copy with ``changes``, checked like a new policy."""
        unknown = sorted(set(changes) - set(self._fields))
        if unknown:
            from .errors import InvalidConfigError

            raise InvalidConfigError(f"RetryPolicy has no fields {unknown}: {self._fields}.")
        return type(self)(**{**self._asdict(), **changes})

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        """Whether attempt number ``attempt`` (1-based), failing with ``exc``, is retried."""
        if attempt >= self.max_attempts or not isinstance(exc, Exception):
            return False
        retry_on = self.retry_on
        if isinstance(retry_on, type) and issubclass(retry_on, BaseException):
            return isinstance(exc, retry_on)
        if isinstance(retry_on, Sequence):
            return isinstance(exc, tuple(retry_on))
        return bool(retry_on(exc))  # type: ignore[call-arg]

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        interval = min(
            self.max_interval, self.initial_interval * self.backoff_factor ** (attempt - 1)
        )
        return interval + (random.uniform(0, 1) if self.jitter else 0.0)


def default_cache_key(*args: Any, **kwargs: Any) -> str:
    """The default ``CachePolicy.key_func``: a stable digest of a node's input.

    Equal inputs give the same key in every process and run (dict key order does
    not matter; lists and tuples agree; ``1``, ``1.0`` and ``True`` differ), see
    :mod:`graphpool.cache._key`. Never pickles.

    Raises:
        SerializationError: the input holds a value with no stable form (a lock,
            a cycle); the message names where it is.
    """
    from .cache._key import canonical_key

    return canonical_key(args, kwargs)


KeyFunc = TypeVar("KeyFunc", bound=Callable[..., Union[str, bytes]])  # noqa: UP007


@dataclasses.dataclass(frozen=True, kw_only=True)
class CachePolicy(Generic[KeyFunc]):
    """Cache a node's result, as LangGraph's: on a graph compiled with ``cache=``,
    a task of the node whose input gives a key already cached (and not expired)
    takes the stored result instead of running.

    Attributes:
        key_func: makes the key from the node's input (a str or bytes);
            :func:`default_cache_key` by default.
        ttl: seconds the result stays cached; ``None``, until cleared.

    Raises:
        InvalidConfigError: ``key_func`` not callable, or ``ttl`` not None or a
            finite number of seconds >= 0.
    """

    key_func: KeyFunc = default_cache_key  # type: ignore[assignment]
    ttl: int | None = None

    def __post_init__(self) -> None:
        from .errors import InvalidConfigError

        if not callable(self.key_func):
            raise InvalidConfigError(
                f"CachePolicy: key_func={self.key_func!r} must be a function "
                "(input) -> str | bytes."
            )
        ttl = self.ttl
        if ttl is not None:
            from ._checks import check_number

            check_number(ttl, "CachePolicy: ttl", InvalidConfigError, at_least=0)


@dataclasses.dataclass(frozen=True)
class TimeoutPolicy:
    """How long an attempt of a node may run, as LangGraph's ``TimeoutPolicy``.

    Give it as ``timeout=`` to ``add_node``, ``set_node_defaults`` or ``compile``
    (a number of seconds means ``run_timeout``).

    Attributes:
        run_timeout: a hard cap in seconds (or a ``timedelta``), never refreshed.
        idle_timeout: seconds the attempt may go without a sign of progress:
            ``runtime.heartbeat()``, and with ``refresh_on="auto"`` also each chunk
            it writes with the stream writer. Past either limit the attempt fails
            with :class:`~graphpool.NodeTimeoutError` and its worker is stopped
            (sync and process nodes too, unlike LangGraph).
        refresh_on: ``"auto"`` or ``"heartbeat"`` (only ``runtime.heartbeat()``).

    Raises:
        InvalidConfigError: a limit that is not a finite number of seconds > 0,
            or another ``refresh_on``.
    """

    run_timeout: Any = None
    idle_timeout: Any = None
    refresh_on: Literal["auto", "heartbeat"] = "auto"

    def __post_init__(self) -> None:
        from ._checks import check_seconds
        from .errors import InvalidConfigError

        for field in ("run_timeout", "idle_timeout"):
            value = getattr(self, field)
            if value is not None:
                seconds = check_seconds(value, f"TimeoutPolicy: {field}", InvalidConfigError)
                object.__setattr__(self, field, seconds)
        if self.refresh_on not in ("auto", "heartbeat"):
            raise InvalidConfigError(
                f"TimeoutPolicy: refresh_on={self.refresh_on!r}: choose 'auto' or 'heartbeat'."
            )


def check_timeout(
    value: Any, where: str, error: type[GraphpoolError]
) -> tuple[float | None, tuple[float, str] | None]:
    """A node timeout (seconds, a ``timedelta`` or a :class:`TimeoutPolicy`) as its hard
    cap in seconds and its idle limit ``(seconds, refresh_on)`` (each or None).

    Raises ``error``, naming ``where``, for anything else (see ``_checks.check_seconds``).
    """
    if isinstance(value, TimeoutPolicy):
        idle = value.idle_timeout
        return value.run_timeout, None if idle is None else (idle, value.refresh_on)
    from ._checks import check_seconds

    return check_seconds(value, where, error), None


@dataclasses.dataclass(frozen=True)
class Interrupt:
    """A pause requested by :func:`interrupt`, as returned under ``"__interrupt__"``.

    Attributes:
        value: what the node passed to ``interrupt()``, for the human to see.
        id: stable id of this interrupt; ``Command(resume={id: answer})`` answers it.
        response_schema: the JSON Schema (a dict) of the answer the node expects, when
            it gave ``interrupt(..., response_schema=...)``; else None.
    """

    value: Any
    id: str = "placeholder-id"
    response_schema: Any = dataclasses.field(default=None, kw_only=True)


class PregelTask(NamedTuple):
    """A task of the step a :class:`StateSnapshot` precedes (LangGraph's fields)."""

    id: str
    name: str
    path: tuple[Any, ...]
    error: Exception | str | None = None
    interrupts: tuple[Interrupt, ...] = ()
    state: Any = None
    result: Any | None = None


class StateSnapshot(NamedTuple):
    """A thread's state at a checkpoint, as ``graph.get_state(config)`` returns it.

    Attributes:
        values: the state's values (with the writes of tasks of the next step
            that already finished applied, as LangGraph shows them).
        next: the nodes still to run in the next step.
        config: addresses this checkpoint (thread id and checkpoint id).
        metadata: ``{"source": "input"|"loop"|"update", "step": n, "parents": {}}``.
        created_at: ISO 8601 time it was saved.
        parent_config: addresses the checkpoint before it.
        tasks: the next step's tasks, with their result, error or interrupts.
        interrupts: interrupts waiting for ``Command(resume=...)``.
    """

    values: dict[str, Any] | Any
    next: tuple[str, ...]
    config: dict[str, Any]
    metadata: dict[str, Any] | None
    created_at: str | None
    parent_config: dict[str, Any] | None
    tasks: tuple[PregelTask, ...]
    interrupts: tuple[Interrupt, ...]


class StateUpdate(NamedTuple):
    """One update of ``bulk_update_state``: ``values`` written as if node ``as_node``
    had returned them (``task_id``: the id its task result is saved under; by
    default the id of that node's task in the step it updates)."""

    values: dict[str, Any] | Any | None
    as_node: str | None = None
    task_id: str | None = None


def interrupt(value: Any, *, response_schema: Any = None) -> Any:
    """Pause the run inside a node and ask the caller for a value, as LangGraph's.

    The first time, the run stops once the step's other tasks are done, and
    ``invoke`` returns the state with ``"__interrupt__": [Interrupt(value, id)]``.
    The caller resumes the same thread with ``invoke(Command(resume=answer),
    config)``: the node runs again from its start, and this call returns
    ``answer``. A node may call ``interrupt()`` several times; each call gets the
    answer for its position. Needs a checkpointer to be resumed.

    ``response_schema`` describes the answer the node expects: a JSON Schema dict
    (shown as given, answers not checked), or a Pydantic model, ``TypedDict`` or
    dataclass, shown as its JSON Schema; the answer is then validated and this call
    returns the validated object. The :class:`Interrupt` carries the schema.

    Raises:
        GraphInterrupt: to pause the run (a ``BaseException``: ``except Exception``
            in the node does not catch it).
        NotInNodeError: when called outside a running node (a ``RuntimeError``).
        pydantic.ValidationError: the answer does not match ``response_schema``;
            nothing is kept, so the interrupt can be answered again
            (:func:`graphpool.errors.is_invalid_resume` tells it apart).
    """
    from ._context import current_task

    current = current_task("interrupt()")
    if response_schema is None or isinstance(response_schema, dict):
        return current.interrupt(value, response_schema, None)
    from ._resume_schema import validator

    schema, validate = validator(response_schema)
    return current.interrupt(value, schema, validate)


class ValuesStreamPart(TypedDict):
    """A ``values`` part of ``stream(..., version="v2")``: the state after a step
    (in the graph's output type for a dataclass or pydantic state), and the run's
    pending interrupts apart.

    Every part has ``type`` (the mode that made it), ``ns`` (the namespace of the
    graph it comes from: ``()`` for the graph streamed, ``("node:<task id>", ...)``
    for a subgraph under ``subgraphs=True``) and ``data`` (the chunk, as
    ``version="v1"`` gives it for that mode).
    """

    type: Literal["values"]
    ns: tuple[str, ...]
    data: Any
    interrupts: tuple[Interrupt, ...]


class UpdatesStreamPart(TypedDict):
    """An ``updates`` part: ``{node: update}``."""

    type: Literal["updates"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class MessagesStreamPart(TypedDict):
    """A ``messages`` part: ``(message, metadata)``."""

    type: Literal["messages"]
    ns: tuple[str, ...]
    data: tuple[Any, dict[str, Any]]


class CustomStreamPart(TypedDict):
    """A ``custom`` part: what a node gave its stream writer."""

    type: Literal["custom"]
    ns: tuple[str, ...]
    data: Any


class CheckpointStreamPart(TypedDict):
    """A ``checkpoints`` part: a checkpoint, as ``get_state`` shows it."""

    type: Literal["checkpoints"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class TasksStreamPart(TypedDict):
    """A ``tasks`` part: a task's start or its result."""

    type: Literal["tasks"]
    ns: tuple[str, ...]
    data: dict[str, Any]


class DebugStreamPart(TypedDict):
    """A ``debug`` part: a checkpoint, task or task result event."""

    type: Literal["debug"]
    ns: tuple[str, ...]
    data: dict[str, Any]


StreamPart = Union[  # noqa: UP007 - evaluated at runtime on 3.10
    ValuesStreamPart,
    UpdatesStreamPart,
    MessagesStreamPart,
    CustomStreamPart,
    CheckpointStreamPart,
    TasksStreamPart,
    DebugStreamPart,
]
"""One chunk of ``stream(..., version="v2")``; ``part["type"]`` tells which.
(A ``tools`` part has the same keys, its ``data`` a tool call event.)"""


@dataclasses.dataclass(frozen=True)
class GraphOutput(Generic[N]):
    """What ``invoke(..., version="v2")`` returns: the final state and the interrupts apart.

    Attributes:
        value: the graph's output (a dict, or its output type).
        interrupts: the run's pending interrupts (empty if it finished).

    ``result[key]`` and ``key in result`` still work as on the v1 dict (with a
    ``DeprecationWarning``): ``"__interrupt__"`` reads :attr:`interrupts`.
    """

    value: N
    interrupts: tuple[Interrupt, ...] = ()

    def __getitem__(self, key: str) -> Any:
        _warn_item_access()
        if key == "__interrupt__":
            return self.interrupts
        if isinstance(self.value, dict):
            return self.value[key]
        try:
            return getattr(self.value, key)
        except AttributeError:
            from .errors import MissingStateKeyError

            raise MissingStateKeyError(f"The output has no key {key!r}.") from None

    def __contains__(self, key: object) -> bool:
        _warn_item_access()
        if key == "__interrupt__":
            return bool(self.interrupts)
        if isinstance(self.value, dict):
            return key in self.value
        return isinstance(key, str) and hasattr(self.value, key)


def _warn_item_access() -> None:
    import warnings

    warnings.warn(
        "GraphOutput[key] and `key in GraphOutput` are deprecated: read .value "
        "(the output) or .interrupts.",
        DeprecationWarning,
        stacklevel=3,
    )
