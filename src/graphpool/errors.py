"""Every exception graphpool raises, in one place.

One root, :class:`GraphpoolError`, with these families:

* misuse, found before a run starts or in the data a run is given:
  :class:`InvalidGraphError` (raised by ``StateGraph`` methods and ``compile()``),
  :class:`InvalidConfigError` (a run's ``config`` or an option given to a
  graphpool class or function), :class:`InvalidUpdateError` (a node or the caller
  wrote state wrongly), :class:`InvalidMessagesError` (messages the chat helpers
  cannot use), :class:`MissingStateKeyError` (a tool wants a state key that is
  not there) and :class:`NotInNodeError` (a node-only function called elsewhere);
* limits a run hits: :class:`GraphRecursionError`;
* node failures that the runtime itself detects: :class:`NodeError` and its
  subclasses :class:`NodeTimeoutError` and :class:`WorkerCrashedError`, carrying
  the node, attempt and run id;
* the pools: :class:`PoolSaturatedError` (backpressure), :class:`PoolShutDownError`
  (work sent to a pool after its shutdown) and :class:`InvalidPoolConfigError`
  (a pool constructed with a bad parameter);
* the state store (checkpointers) and values that travel: :class:`CheckpointError`
  and its subclasses :class:`SerializationError` (a value cannot be stored, or
  sent to a process worker), :class:`ThreadBusyError` (another run holds the
  thread) and :class:`CheckpointNotFoundError`;
* pictures: :class:`RenderError` and :class:`MissingRendererError`.

An exception raised *by a node's own code* is not wrapped: it reaches the caller
with its own type, as in LangGraph. LangGraph's public names and base classes are
kept where users catch them (``GraphRecursionError`` is a ``RecursionError``).

:class:`GraphInterrupt` is not an error and not a ``GraphpoolError``: it is the
signal ``interrupt()`` raises to pause a run, and it derives from
``BaseException`` so that a node's ``except Exception`` cannot swallow it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CheckpointError",
    "CheckpointNotFoundError",
    "EmptyInputError",
    "GraphDrained",
    "GraphInterrupt",
    "GraphRecursionError",
    "GraphpoolError",
    "InternalError",
    "InvalidCheckpointerError",
    "InvalidConfigError",
    "InvalidGraphError",
    "InvalidMessagesError",
    "InvalidNamespaceError",
    "InvalidNodeError",
    "InvalidPoolConfigError",
    "InvalidResumeError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "MissingRendererError",
    "MissingStateKeyError",
    "NodeCancelledError",
    "NodeError",
    "NodeTimeoutError",
    "NotInNodeError",
    "ParentCommand",
    "PoolSaturatedError",
    "PoolShutDownError",
    "ReducerError",
    "RenderError",
    "SavedFailure",
    "SerializationError",
    "StepTimeoutError",
    "TaskCancelledError",
    "ThreadBusyError",
    "UnsupportedError",
    "WorkerCrashedError",
]
# Also here, as in LangGraph's ``langgraph.errors``: ``is_invalid_resume`` (a function,
# so not in ``__all__``, which lists the exception tree).


class GraphpoolError(Exception):
    """Root of every exception defined by graphpool."""


class InvalidGraphError(GraphpoolError, ValueError):
    """The graph is malformed: raised by ``StateGraph`` methods and by ``compile()``.

    It is a ``ValueError`` because LangGraph raises ``ValueError`` for the same
    mistakes, so existing ``except ValueError`` blocks keep working.
    """


class InvalidCheckpointerError(InvalidGraphError, TypeError):
    """``compile(checkpointer=...)`` got something that is not a graphpool saver (nor
    ``None``, ``True`` or ``False``); LangGraph's own savers included.

    Also a ``TypeError``, as LangGraph raises for it.
    """


class InvalidNodeError(GraphpoolError, TypeError):
    """A node or route given to the builder is not callable.

    A ``TypeError``, as LangGraph raises for it (not an :class:`InvalidGraphError`,
    which is a ``ValueError``).
    """


class UnsupportedError(InvalidGraphError, NotImplementedError):
    """Something LangGraph refuses with ``NotImplementedError``, refused the same way.

    Raised by ``@entrypoint`` and ``@task`` given a generator function.
    """


class InvalidUpdateError(GraphpoolError):
    """A state update is invalid.

    Raised during a run when two tasks of one step write a key that has no
    reducer, when a key's reducer raises on a write (:class:`ReducerError`),
    when a node (or a tool called by ``ToolNode``)
    returns something that is not an update, or when a route names a node that
    does not exist.
    """


class ReducerError(InvalidUpdateError, TypeError, ValueError):
    """A key's reducer raised on a write, usually a value of the wrong type
    (``operator.add`` on a list and an int).

    The message names the key, the reducer and the node that wrote the value;
    the reducer's own exception is chained as ``__cause__``. Also a ``TypeError``
    and a ``ValueError``, the errors a reducer raises for a value it cannot merge
    (and which LangGraph lets through), so existing handlers keep working.
    """


class InvalidRouteError(InvalidUpdateError, KeyError, ValueError):
    """A route named no valid node: a path function's value missing from its
    ``path_map``, a ``None``/``START`` destination, or an unknown node name.

    Also a ``KeyError`` and a ``ValueError``, the builtin errors LangGraph lets
    escape for the first two cases, so existing handlers keep working.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class GraphDrained(GraphpoolError):
    """The run stopped between steps because its ``RunControl`` asked it to drain
    (``invoke(..., control=control)``, then ``control.request_drain(reason)``).

    What the finished steps wrote is saved; with a checkpointer, ``invoke(None,
    config)`` goes on from there.

    Attributes:
        reason: the reason given to ``request_drain``.
    """

    def __init__(self, reason: str = "shutdown") -> None:
        super().__init__(f"Graph drained: {reason}")
        self.reason = reason


class GraphRecursionError(GraphpoolError, RecursionError):
    """The run reached ``recursion_limit`` supersteps without finishing.

    Raise the limit with ``config={"recursion_limit": n}`` if the graph is meant
    to loop that long.
    """


class NodeError(GraphpoolError):
    """A task failed for a reason outside the node's own code; or, given to a node's
    ``error_handler`` (a parameter annotated ``NodeError``), the failure it handles.

    Attributes:
        node: name of the node.
        attempt: 1-based number of the attempt that failed.
        run_id: id of the run the task belonged to.
        error: for an error handler, what the node raised (else None).
    """

    def __init__(
        self,
        message: str,
        *,
        node: str,
        attempt: int = 1,
        run_id: str = "",
        error: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.node = node
        self.attempt = attempt
        self.run_id = run_id
        self.error = error

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_node_error, (type(self), str(self), self.node, self.attempt, self.run_id))


def _rebuild_node_error(
    cls: type[NodeError], message: str, node: str, attempt: int, run_id: str
) -> NodeError:
    return cls(message, node=node, attempt=attempt, run_id=run_id)


class NodeTimeoutError(NodeError, TimeoutError):
    """An attempt of a node ran longer than its ``timeout``.

    The attempt is stopped: a process worker running it is killed and replaced,
    an async node is cancelled, a thread is given up on (it keeps its slot in a
    bounded pool until its body returns).
    Retried like any transient failure when the node's retry policy allows it.

    Attributes:
        timeout: the limit that was passed, in seconds.
        kind: ``"run"`` (the hard cap) or ``"idle"`` (a ``TimeoutPolicy``'s idle
            limit: no sign of progress for that long), as LangGraph's.
        run_timeout, idle_timeout: the attempt's limits (None: not set).
    """

    def __init__(
        self,
        message: str,
        *,
        node: str,
        attempt: int = 1,
        run_id: str = "",
        timeout: float = 0,
        kind: str = "run",
        run_timeout: float | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        super().__init__(message, node=node, attempt=attempt, run_id=run_id)
        self.timeout = timeout
        self.kind = kind
        self.run_timeout = run_timeout if run_timeout is not None or kind == "idle" else timeout
        self.idle_timeout = idle_timeout


class StepTimeoutError(GraphpoolError, TimeoutError):
    """A step ran past the compiled graph's ``step_timeout`` (seconds): its running
    tasks are stopped and the run fails.

    A ``TimeoutError`` (``asyncio.TimeoutError``), as LangGraph raises for it.

    Attributes:
        step: the step that ran too long.
        nodes: the nodes of its tasks that were still running.
    """

    def __init__(self, message: str, *, step: int = 0, nodes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.step = step
        self.nodes = nodes


class SavedFailure(GraphpoolError):
    """What a node raised, as a checkpoint keeps it (its ``repr``): the ``error`` an
    error handler gets in its ``NodeError`` when a run resumed after a crash runs
    the handler again (the original exception is gone with the crashed process)."""


class NodeCancelledError(NodeError):
    """An async node raised ``asyncio.CancelledError`` itself (nothing cancelled it).

    The run fails with this error, naming the node, instead of treating the node as
    torn down; a retry policy may retry it like any other failure.
    """


class WorkerCrashedError(NodeError):
    """The worker process running a node died (``os._exit``, a signal, the OOM killer).

    Only that task fails; the pool starts a new worker. Retried when the node's
    retry policy allows it. The exit reason is chained as ``__cause__``.
    """


class TaskCancelledError(NodeError, RuntimeError):
    """An attempt was dropped or stopped because the pool running it shut down
    (``shutdown(cancel=True)``, or ``wait=False`` with work still queued).

    The run fails with it, naming the node; nothing is retried on a pool that is gone.
    """


class PoolSaturatedError(GraphpoolError):
    """A pool's task queue is full and a new run could not be admitted in time.

    Raised before the run starts (nothing ran, nothing is lost): retry later,
    wait longer (``config={"admission_timeout": seconds}``), or give the pool a
    larger ``queue_size``.
    """


class PoolShutDownError(GraphpoolError, RuntimeError):
    """Work was sent to a pool after its ``shutdown()``.

    Raised by ``submit``/``submit_in`` and by the admission of a new run on
    every pool kind (``ThreadPool``, ``AsyncPool``, ``ProcessPool``), whatever
    ``shutdown`` was asked to do with the work already queued. Nothing of the
    refused call ran. A ``RuntimeError``, as ``concurrent.futures`` raises for it.
    A run whose next task meets a shut-down pool fails with
    :class:`TaskCancelledError` naming the node, chained from this error.
    """


class InternalError(GraphpoolError):
    """A bug in graphpool itself; please report it with the traceback."""


class RenderError(GraphpoolError, RuntimeError):
    """A picture of the graph could not be drawn.

    Raised by ``get_graph().draw_mermaid_png()`` when mermaid-cli (``mmdc``)
    fails; the message carries its output. A ``RuntimeError``, as it was before.
    """


class MissingRendererError(RenderError):
    """A picture was asked for but the program that draws it is not installed.

    Raised by ``get_graph().draw_mermaid_png()`` when mermaid-cli (``mmdc``) is
    not on ``PATH``; the message names what to install and the alternative.
    """


class InvalidConfigError(GraphpoolError, ValueError, TypeError):
    """A run's ``config``, or an option given to a graphpool class or function,
    holds a missing or bad value.

    Raised by ``invoke``/``stream`` (and the state methods) for a ``config`` key of
    the wrong type or value (``admission_timeout``, ``configurable``, ``executor``,
    ``recursion_limit``, ...) before the run starts, and when a graph compiled
    with a checkpointer gets no ``config["configurable"]["thread_id"]``; by
    :class:`~graphpool.RetryPolicy` for a bad field; by ``ToolNode``,
    ``add_messages``, the savers, ``bulk_update_state`` (no superstep, or an
    empty one) and ``save_timeline`` for a bad argument. The
    message names the key (or parameter) and the value.

    Both a ``ValueError`` (LangGraph raises ``ValueError`` for a missing
    ``thread_id``) and a ``TypeError`` (what a value of the wrong type used to
    raise), so existing handlers of either keep working.
    """


class InvalidMessagesError(GraphpoolError, ValueError):
    """Messages that the chat helpers cannot use.

    Raised by ``add_messages`` for a ``RemoveMessage`` whose id is not in the
    list, by ``push_message`` for a message without an id, and by ``ToolNode``
    and ``tools_condition`` when the state holds no messages, or no
    ``AIMessage`` to take tool calls from. A ``ValueError``, as
    LangGraph raises for these.
    """


class MissingStateKeyError(GraphpoolError, KeyError):
    """A tool asked ``ToolNode`` for a state key (``InjectedState("key")``, without a
    default) that the state it received does not have.

    A ``KeyError``, as LangGraph raises for a dict state (it raises
    ``AttributeError`` for an object state; graphpool raises this for both).
    Also raised by ``GraphOutput[key]`` for a key its (object) value lacks.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class InvalidNamespaceError(GraphpoolError, ValueError):
    """A store namespace that cannot be used: not a tuple (or list) of strings,
    empty where an item is written, a label that is empty or holds a ``"."`` or
    a NUL character, or the reserved root label ``"langgraph"``.

    Raised by the stores of :mod:`graphpool.store` (``put``, ``get``, ``search``,
    ``delete``, ``list_namespaces``, ``batch`` and their async twins) before
    anything is read or written; the message names the namespace and the label.
    A ``ValueError``, as LangGraph's ``InvalidNamespaceError`` is.
    """


class NotInNodeError(GraphpoolError, RuntimeError):
    """A function that only works inside a running node was called elsewhere.

    Raised by :func:`~graphpool.interrupt` outside a node. A ``RuntimeError``, as
    LangGraph raises for it.
    """


class InvalidPoolConfigError(InvalidConfigError, TypeError):
    """A pool was constructed with a bad parameter: the message names it and its value.

    Raised by the constructors of ``ThreadPool``, ``ProcessPool`` and ``AsyncPool`` (sizes that are
    not whole numbers, ``True`` for a size, negative or NaN timeouts,
    ``min_workers > max_workers``, ...). Both a ``ValueError`` and a
    ``TypeError``, so code that catches either for bad arguments keeps working.
    """


class EmptyInputError(GraphpoolError):
    """``invoke(None, config)`` on a thread that has no saved state to continue from."""


class InvalidResumeError(GraphpoolError, RuntimeError):
    """A ``Command(resume=...)`` that cannot be delivered.

    Raised without a checkpointer, when the thread has no saved state, and when
    several interrupts are pending and the resume value does not say which one
    it answers (pass ``Command(resume={interrupt.id: value, ...})``). A
    ``RuntimeError``, as LangGraph raises for these.
    """


class CheckpointError(GraphpoolError):
    """Root of the state store's errors: a checkpoint cannot be saved or loaded."""


class SerializationError(CheckpointError, TypeError):
    """A value cannot be serialized: stored by the checkpoint serializer, read back
    safely from stored bytes, or pickled for a process worker.

    Raised by the savers (``InMemorySaver``, ``SqliteSaver``, ``PostgresSaver``),
    and before a node with ``executor="process"`` runs (or when it is added)
    if its function or input cannot be pickled. The message names the state key
    (and the node) and the type at fault.

    Attributes:
        node: the node at fault, when known.
    """

    def __init__(self, message: str, *, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node


class CheckpointNotFoundError(CheckpointError, KeyError):
    """A saver was asked for a checkpoint it does not hold.

    Raised by ``InMemorySaver.put_result`` for a checkpoint id that was never
    saved in that thread. A ``KeyError``, as it was before.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ThreadBusyError(CheckpointError):
    """Another run is using this ``thread_id`` right now.

    Raised by ``invoke``/``stream`` of a graph with a checkpointer: two runs on
    one thread at once would interleave their checkpoints. The lease of a run
    whose process died is freed when the next run starts (same host: the pid is
    gone; another host: after the saver's ``lease_timeout``).

    Attributes:
        thread_id: the thread asked for.
        owner: who holds it, as ``"pid@host"``.
    """

    def __init__(self, message: str, *, thread_id: str = "", owner: str = "") -> None:
        super().__init__(message)
        self.thread_id = thread_id
        self.owner = owner


class GraphInterrupt(BaseException):
    """Raised by :func:`graphpool.types.interrupt` to pause a run; not an error.

    It derives from ``BaseException`` (unlike LangGraph's, an ``Exception``) so a
    node's ``except Exception`` does not swallow it, and retry policies never
    retry it. The run catches it: ``invoke`` returns the state with an
    ``"__interrupt__"`` list, and the run resumes with ``Command(resume=...)``.

    Attributes:
        interrupts: the :class:`~graphpool.types.Interrupt` records raised.
    """

    def __init__(self, interrupts: tuple[object, ...] = ()) -> None:
        super().__init__(interrupts)
        self.interrupts = tuple(interrupts)


class ParentCommand(BaseException):
    """A node of a subgraph returned ``Command(graph=Command.PARENT, ...)``: the
    command travels up to the task that runs the subgraph, which then acts as if
    its own node had returned it (its ``update`` and ``goto``). Not an error;
    like :class:`GraphInterrupt` it derives from ``BaseException``, so neither a
    node's ``except Exception`` nor a retry policy catches it. Raised to the
    caller if a root graph's node returns it (there is no parent).

    Attributes:
        command: the :class:`~graphpool.types.Command`; its ``graph`` names the
            namespace of the run it is for.
    """

    def __init__(self, command: object) -> None:
        super().__init__(command)

    @property
    def command(self) -> Any:
        return self.args[0]


_INVALID_RESUME = "_graphpool_invalid_resume"


def mark_invalid_resume(error: BaseException) -> None:
    """Mark ``error`` as raised by an answer that did not match ``response_schema``."""
    setattr(error, _INVALID_RESUME, True)


def is_invalid_resume(error: BaseException) -> bool:
    """Whether ``error`` is the ``pydantic.ValidationError`` that
    ``interrupt(..., response_schema=...)`` raised for an answer not matching it.

    The run fails and keeps nothing of the answer, so the interrupt can be answered
    again. ``ToolNode`` raises such an error even where ``handle_tool_errors`` would
    turn the tool's errors into a message: the model cannot fix a human's answer.
    """
    return getattr(error, _INVALID_RESUME, False) is True
