"""Every exception graphpool raises, in one place.

One root, :class:`GraphpoolError`, with three families:

* misuse, found before a run starts or in the data a run is given:
  :class:`InvalidGraphError` (raised by ``StateGraph`` methods and ``compile()``)
  and :class:`InvalidUpdateError` (a node or the caller wrote state wrongly);
* limits a run hits: :class:`GraphRecursionError`;
* node failures that the runtime itself detects: :class:`NodeError` and its
  subclasses :class:`NodeTimeoutError`, :class:`WorkerCrashedError` and
  :class:`SerializationError`, carrying the node, attempt and run id.

An exception raised *by a node's own code* is not wrapped: it reaches the caller
with its own type, as in LangGraph. LangGraph's public names and base classes are
kept where users catch them (``GraphRecursionError`` is a ``RecursionError``).
"""

from __future__ import annotations

__all__ = [
    "GraphRecursionError",
    "GraphpoolError",
    "InternalError",
    "InvalidGraphError",
    "InvalidNodeError",
    "InvalidRouteError",
    "InvalidUpdateError",
    "MissingRendererError",
    "NodeError",
    "NodeTimeoutError",
    "PoolSaturatedError",
    "SerializationError",
    "WorkerCrashedError",
]


class GraphpoolError(Exception):
    """Root of every exception defined by graphpool."""


class InvalidGraphError(GraphpoolError, ValueError):
    """The graph is malformed: raised by ``StateGraph`` methods and by ``compile()``.

    It is a ``ValueError`` because LangGraph raises ``ValueError`` for the same
    mistakes, so existing ``except ValueError`` blocks keep working.
    """


class InvalidNodeError(GraphpoolError, TypeError):
    """A node or route given to the builder is not callable.

    A ``TypeError``, as LangGraph raises for it (not an :class:`InvalidGraphError`,
    which is a ``ValueError``).
    """


class InvalidUpdateError(GraphpoolError):
    """A state update is invalid.

    Raised during a run when two tasks of one step write a key that has no
    reducer, when a node returns something that is not an update, or when a
    route names a node that does not exist.
    """


class InvalidRouteError(InvalidUpdateError, KeyError, ValueError):
    """A route named no valid node: a path function's value missing from its
    ``path_map``, a ``None``/``START`` destination, or an unknown node name.

    Also a ``KeyError`` and a ``ValueError``, the builtin errors LangGraph lets
    escape for the first two cases, so existing handlers keep working.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class GraphRecursionError(GraphpoolError, RecursionError):
    """The run reached ``recursion_limit`` supersteps without finishing.

    Raise the limit with ``config={"recursion_limit": n}`` if the graph is meant
    to loop that long.
    """


class NodeError(GraphpoolError):
    """A task failed for a reason outside the node's own code.

    Attributes:
        node: name of the node.
        attempt: 1-based number of the attempt that failed.
        run_id: id of the run the task belonged to.
    """

    def __init__(self, message: str, *, node: str, attempt: int = 1, run_id: str = "") -> None:
        super().__init__(message)
        self.node = node
        self.attempt = attempt
        self.run_id = run_id

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_node_error, (type(self), str(self), self.node, self.attempt, self.run_id))


def _rebuild_node_error(
    cls: type[NodeError], message: str, node: str, attempt: int, run_id: str
) -> NodeError:
    return cls(message, node=node, attempt=attempt, run_id=run_id)


class NodeTimeoutError(NodeError, TimeoutError):
    """An attempt of a node ran longer than its ``timeout``.

    The attempt is stopped: a process worker running it is killed and replaced,
    an async node is cancelled, a thread is abandoned and replaced in its pool.
    Retried like any transient failure when the node's retry policy allows it.

    Attributes:
        timeout: the limit, in seconds.
    """

    def __init__(
        self, message: str, *, node: str, attempt: int = 1, run_id: str = "", timeout: float = 0
    ) -> None:
        super().__init__(message, node=node, attempt=attempt, run_id=run_id)
        self.timeout = timeout


class WorkerCrashedError(NodeError):
    """The worker process running a node died (``os._exit``, a signal, the OOM killer).

    Only that task fails; the pool starts a new worker. Retried when the node's
    retry policy allows it. The exit reason is chained as ``__cause__``.
    """


class SerializationError(NodeError, TypeError):
    """A node's function, input or result cannot be sent to or from a process worker.

    Raised before the node runs when its function or input cannot be pickled
    (``compile()`` already checks the function), naming the state key at fault.
    """


class PoolSaturatedError(GraphpoolError):
    """A pool's task queue is full and a new run could not be admitted in time.

    Raised before the run starts (nothing ran, nothing is lost): retry later,
    wait longer (``config={"admission_timeout": seconds}``), or give the pool a
    larger ``queue_size``.
    """


class InternalError(GraphpoolError):
    """A bug in graphpool itself; please report it with the traceback."""


class MissingRendererError(GraphpoolError, RuntimeError):
    """A picture was asked for but the program that draws it is not installed.

    Raised by ``get_graph().draw_mermaid_png()`` when mermaid-cli (``mmdc``) is
    not on ``PATH``; the message names what to install and the alternative.
    """
