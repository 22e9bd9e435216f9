"""``StateGraph``: declare nodes and edges, then ``compile()`` into a runnable graph."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._branch import Branch
from ._checks import check_choice
from ._constants import END, RESERVED_NAMES, START
from ._handlers import DEFAULT_HANDLER, handler_name
from ._lc import is_runnable
from ._nest import SubgraphNode
from ._node import Callee, NodeSpec, callable_name
from ._pool._registry import known_executors
from ._schema import Schema, annotated_input
from ._topology import Topology
from .errors import InvalidCheckpointerError, InvalidGraphError, InvalidNodeError
from .types import CachePolicy, RetryPolicy, check_timeout

if TYPE_CHECKING:  # built by compile(); imported there, the layer above this one
    from ._compiled import CompiledStateGraph

__all__ = ["StateGraph"]

StateT = TypeVar("StateT")

_FORBIDDEN_CHARS = ("|", ":")


def _check_executor(node: str, executor: str, callee: Callee) -> None:
    """Fail at build time for an executor a node cannot use."""
    check_choice(executor, f"Node {node!r}: executor", InvalidGraphError, known_executors())
    if executor == "async" and not callee.is_async:
        raise InvalidGraphError(
            f"Node {node!r}: executor='async' needs an 'async def' function; use "
            "executor='thread' for a sync function."
        )
    if executor == "thread" and callee.is_async:
        raise InvalidGraphError(
            f"Node {node!r} is 'async def': it runs on an event loop, not a thread; drop "
            "executor='thread' or use 'async', 'process' or 'ray'."
        )
    if executor == "process":
        from ._pool._process import dumps_for_worker

        dumps_for_worker(node, callee.fn, None)
    if executor == "ray":
        from ._pool._ray import check_node

        check_node(node, callee.fn)


def _policies(where: str, given: Any) -> tuple[RetryPolicy, ...]:
    """A ``retry_policy`` argument as a tuple: one policy, a sequence of them, or None."""
    if given is None:
        return ()
    policies = (given,) if isinstance(given, RetryPolicy) else given
    if not isinstance(policies, Sequence) or not all(isinstance(p, RetryPolicy) for p in policies):
        raise InvalidGraphError(
            f"{where}={given!r}: expected a graphpool RetryPolicy or a sequence of them."
        )
    return tuple(policies)


def _destinations(
    given: Mapping[str, str] | Sequence[str] | None,
) -> Mapping[str, str] | tuple[str, ...] | None:
    """``add_node(destinations=...)``: a dict keeps its edge labels (``{target: label}``)."""
    if given is None:
        return None
    return dict(given) if isinstance(given, Mapping) else tuple(given)


class StateGraph(Generic[StateT]):
    """A graph whose nodes read and update one shared state, as ``langgraph.graph.StateGraph``.

    Args:
        state_schema: a TypedDict, dataclass or pydantic model. A key declared
            ``Annotated[T, reducer]`` merges writes with ``reducer(current, new)``;
            other keys take one write per step.
        context_schema: the type of ``invoke(..., context=...)``, which nodes get as
            ``runtime.context`` (a type hint: the value is passed as given).
        input_schema: keys accepted from the caller's input (default: the state's).
        output_schema: keys returned by ``invoke`` (default: the state's).

    Raises:
        InvalidGraphError: from any method given a bad name, edge or schema.
    """

    def __init__(
        self,
        state_schema: type[StateT],
        context_schema: type[Any] | None = None,
        *,
        input_schema: type[Any] | None = None,
        output_schema: type[Any] | None = None,
    ) -> None:
        self.state_schema = Schema(state_schema)
        self.input_schema = Schema(input_schema) if input_schema else self.state_schema
        self.output_schema = Schema(output_schema) if output_schema else self.state_schema
        self.context_schema = context_schema
        self.nodes: dict[str, NodeSpec] = {}
        self.edges: set[tuple[str, str]] = set()
        self.waiting_edges: set[tuple[tuple[str, ...], str]] = set()
        self.branches: dict[str, dict[str, Branch]] = {}
        self.compiled = False
        self._node_defaults: dict[str, Any] = {}
        self._error_handlers: dict[str, Any] = {}  # node -> its add_node(error_handler=)

    @property
    def channels(self) -> dict[str, Any]:
        """Every state key of the graph (its state, input, output and node input
        schemas), each with a fresh channel of its kind, as LangGraph's builder has."""
        return self._all_keys().new_channels()

    @property
    def managed(self) -> dict[str, Any]:
        """The managed keys (``graphpool.managed``) of those schemas, with their kind."""
        return dict(self._all_keys().managed)

    def _all_keys(self) -> Schema:
        privates = [s.input_schema for s in self.nodes.values() if s.input_schema is not None]
        return self.state_schema.merged(self.input_schema, self.output_schema, *privates)

    # -- nodes ---------------------------------------------------------------

    def add_node(
        self,
        node: str | Callable[..., Any],
        action: Callable[..., Any] | None = None,
        *,
        input_schema: type[Any] | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        retry: RetryPolicy | Sequence[RetryPolicy] | None = None,
        timeout: float | None = None,
        executor: str | None = None,
        resources: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        destinations: Mapping[str, str] | Sequence[str] | None = None,
        defer: bool = False,
        cache_policy: CachePolicy | None = None,
        error_handler: Callable[..., Any] | None = None,
        **unsupported: Any,
    ) -> StateGraph[StateT]:
        """Add a node: ``add_node("name", fn)`` or ``add_node(fn)`` (named after ``fn``).

        ``fn`` may also be a langchain-core Runnable (a chat model, a chain, a
        ``ToolNode``), called as ``fn.invoke(state, config)``.
        ``fn(state)`` or ``fn(state, config)`` returns a partial update (dict),
        ``None``, or a :class:`~graphpool.Command`.

        Args:
            retry_policy: retry failed attempts (LangGraph's older spelling
                ``retry`` works too); a sequence tries each policy in turn.
            timeout: seconds an attempt may run; past it the attempt fails with
                :class:`~graphpool.NodeTimeoutError` (and is retried if the policy
                says so) and its worker is stopped: a process is killed, an async
                node cancelled, a thread given up on (it keeps its pool slot until
                it returns).
            executor: where the node runs: ``"thread"`` (default for sync nodes:
                I/O-bound work), ``"process"`` (CPU-bound work, on all cores; the
                function and its input must pickle, closures included),
                ``"async"`` (default for ``async def`` nodes: an event loop),
                ``"ray"`` (a Ray task on a Ray cluster, see :class:`~graphpool.RayPool`).
            error_handler: a node function run, in the same step, in place of this
                node once its attempts are used up: it gets the same state (and the
                failure in a parameter annotated ``NodeError``), and its update and
                ``Command(goto=...)`` count instead (see ``graphpool._handlers``).
            resources: what a Ray task of this node needs, so Ray places it on a
                machine that has it: ``{"num_cpus": 2, "num_gpus": 1, "memory":
                4 * 2**30, "custom": {"my_resource": 1}}`` (any subset).

        Raises:
            InvalidGraphError: a bad name, timeout, executor or resource.
            SerializationError: ``executor="process"`` or ``"ray"`` with a function
                that cannot be pickled.
            ImportError: ``executor="ray"`` without Ray installed.
        """
        if unsupported:
            raise InvalidGraphError(
                f"add_node() got options graphpool does not support yet: {sorted(unsupported)}."
            )
        if cache_policy is not None and not isinstance(cache_policy, CachePolicy):
            raise InvalidGraphError(
                f"add_node(cache_policy={cache_policy!r}): pass a graphpool.CachePolicy."
            )
        if isinstance(node, str):
            name = node
            if action is None:
                raise InvalidGraphError(
                    f"add_node({name!r}) needs a function as its second argument."
                )
        else:
            if action is not None:
                raise InvalidGraphError(
                    "add_node(fn, action): give either a name and a function, or a function."
                )
            name, action = callable_name(node), node
        self._check_node_name(name)
        subgraph = _subgraph_of(name, action, executor)
        if subgraph is not None:  # runs in its parent's task: never a graph default elsewhere
            action, executor = subgraph, executor or "thread"
        if not (callable(action) or is_runnable(action)):
            raise InvalidNodeError(
                f"Node {name!r} must be a callable or a langchain Runnable, got {action!r}."
            )
        policies = _policies(
            f"Node {name!r}: retry_policy", retry_policy if retry_policy is not None else retry
        )
        idle = None
        if timeout is not None:
            timeout, idle = check_timeout(timeout, f"Node {name!r}: timeout", InvalidGraphError)
        callee = Callee.of(action)
        if executor is not None:
            _check_executor(name, executor, callee)
        if resources is not None:
            if executor not in (None, "ray"):
                raise InvalidGraphError(
                    f"Node {name!r}: resources are for executor='ray', not {executor!r}."
                )
            from ._pool._ray import check_resources

            resources = check_resources(name, resources)
        if error_handler is not None:
            if not callable(error_handler):
                raise InvalidGraphError(
                    f"Node {name!r}: error_handler={error_handler!r} must be a function."
                )
            self._error_handlers[name] = error_handler
        else:
            self._error_handlers.pop(name, None)
        self.nodes[name] = NodeSpec(
            name=name,
            callee=callee,
            input_schema=self._node_input(input_schema, action),
            retry_policy=policies,
            timeout=timeout,
            idle=idle,
            executor=executor,
            metadata=metadata,
            destinations=_destinations(destinations),
            resources=resources or None,
            cache_policy=cache_policy,
            defer=bool(defer),
        )
        return self

    def _node_input(self, given: Any, action: Any) -> Schema | None:
        """A node's input schema: the one given, else the state class its first
        parameter is annotated with (as LangGraph infers it), else None (the state's)."""
        cls = given or (None if is_runnable(action) else annotated_input(action))
        if cls is None or cls is self.state_schema.cls:
            return None
        return Schema(cls)

    def set_node_defaults(
        self,
        *,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        cache_policy: CachePolicy | None = None,
        error_handler: Any = None,
        timeout: Any = None,
    ) -> StateGraph[StateT]:
        """Policies for every node that does not set its own (applied by ``compile()``).

        ``retry_policy`` and ``timeout`` (seconds, a ``timedelta`` or a
        ``TimeoutPolicy``) act as ``compile(retry_policy=..., timeout=...)`` do;
        ``cache_policy`` applies to nodes without one; ``error_handler`` handles the
        failures of nodes without their own (see :meth:`add_node`).

        Raises:
            InvalidGraphError: a bad value.
        """
        if error_handler is not None:
            if not callable(error_handler):
                raise InvalidGraphError(
                    f"set_node_defaults(error_handler={error_handler!r}): pass a function."
                )
            self._node_defaults["error_handler"] = error_handler
        if timeout is not None:
            check_timeout(timeout, "set_node_defaults(): timeout", InvalidGraphError)
        if cache_policy is not None and not isinstance(cache_policy, CachePolicy):
            raise InvalidGraphError(
                f"set_node_defaults(cache_policy={cache_policy!r}): pass a graphpool.CachePolicy."
            )
        policies = _policies("set_node_defaults(): retry_policy", retry_policy)
        given = {"retry_policy": policies or None, "cache_policy": cache_policy, "timeout": timeout}
        self._node_defaults.update({k: v for k, v in given.items() if v is not None})
        return self

    def _warn_if_compiled(self) -> None:
        if self.compiled:
            warnings.warn(
                "Changing a StateGraph after compile(): graphs compiled before do not see "
                "the change; compile again.",
                stacklevel=3,
            )

    def _check_node_name(self, name: str) -> None:
        self._warn_if_compiled()
        if name in RESERVED_NAMES:
            raise InvalidGraphError(f"Node name {name!r} is reserved; choose another name.")
        if name in self.nodes:
            raise InvalidGraphError(f"Node {name!r} already exists; node names must be unique.")
        if not name or any(c in name for c in _FORBIDDEN_CHARS):
            raise InvalidGraphError(
                f"Node name {name!r} is not allowed: it must be non-empty and contain no "
                f"{' or '.join(map(repr, _FORBIDDEN_CHARS))}."
            )

    def add_sequence(
        self, nodes: Sequence[Callable[..., Any] | tuple[str, Callable[..., Any]]]
    ) -> StateGraph[StateT]:
        """Add nodes and chain them with edges, in order."""
        if not nodes:
            raise InvalidGraphError("add_sequence() needs at least one node.")
        previous: str | None = None
        for item in nodes:
            name, fn = item if isinstance(item, tuple) else (callable_name(item), item)
            self.add_node(name, fn)
            if previous is not None:
                self.add_edge(previous, name)
            previous = name
        return self

    # -- edges ---------------------------------------------------------------

    def add_edge(self, start_key: str | Sequence[str], end_key: str) -> StateGraph[StateT]:
        """Run ``end_key`` after ``start_key``.

        With a list of sources, ``end_key`` waits until every source has run
        (a join); separate edges trigger it in every step where any source ran.
        """
        self._warn_if_compiled()
        if end_key == START:
            raise InvalidGraphError("START cannot be the end of an edge.")
        if isinstance(start_key, str):
            if start_key == END:
                raise InvalidGraphError("END cannot be the start of an edge.")
            self.edges.add((start_key, end_key))
            return self
        sources = tuple(start_key)
        if not sources:
            raise InvalidGraphError(f"add_edge([], {end_key!r}): a join needs at least one source.")
        for source in sources:
            if source == START:
                raise InvalidGraphError("START cannot be one of the sources of a join edge.")
            if source == END:
                raise InvalidGraphError("END cannot be the start of an edge.")
        self.waiting_edges.add((sources, end_key))
        return self

    def add_conditional_edges(
        self,
        source: str,
        path: Callable[..., Any],
        path_map: Mapping[Hashable, str] | Sequence[str] | None = None,
    ) -> StateGraph[StateT]:
        """After ``source`` runs, call ``path(state)`` to choose the next nodes.

        ``path`` returns a node name, ``END``, a :class:`~graphpool.Send`, or a
        list of those; with ``path_map`` its return values are looked up there
        first. It reads the state including ``source``'s own update.
        """
        self._warn_if_compiled()
        name = callable_name(path) if not is_runnable(path) else getattr(path, "name", None)
        if name in ("<lambda>", None):
            name = "condition"
        existing = self.branches.setdefault(source, {})
        if name in existing:
            raise InvalidGraphError(
                f"Node {source!r} already has conditional edges named {name!r}; give the route "
                "function another name."
            )
        existing[name] = Branch.create(source, name, path, path_map)
        return self

    def set_entry_point(self, key: str) -> StateGraph[StateT]:
        """Same as ``add_edge(START, key)``."""
        return self.add_edge(START, key)

    def set_conditional_entry_point(
        self,
        path: Callable[..., Any],
        path_map: Mapping[Hashable, str] | Sequence[str] | None = None,
    ) -> StateGraph[StateT]:
        """Same as ``add_conditional_edges(START, path, path_map)``."""
        return self.add_conditional_edges(START, path, path_map)

    def set_finish_point(self, key: str) -> StateGraph[StateT]:
        """Same as ``add_edge(key, END)``."""
        return self.add_edge(key, END)

    # -- compile -------------------------------------------------------------

    def validate(self) -> None:
        """Check the graph; raise :class:`InvalidGraphError` naming the first culprit."""
        known = set(self.nodes)

        def check_source(source: str, what: str) -> None:
            if source != START and source not in known:
                raise InvalidGraphError(
                    f"Found {what} starting at unknown node {source!r}; "
                    "add it with add_node() first."
                )

        def check_target(target: str, what: str) -> None:
            if target != END and target not in known:
                raise InvalidGraphError(
                    f"Found {what} ending at unknown node {target!r}; add it with add_node() "
                    "first, or fix the name."
                )

        for source, target in sorted(self.edges):
            check_source(source, "edge")
            check_target(target, f"edge from {source!r}")
        for sources, target in sorted(self.waiting_edges):
            for source in sources:
                check_source(source, f"join edge into {target!r}")
            check_target(target, f"join edge from {list(sources)!r}")
        for source, branches in self.branches.items():
            check_source(source, "conditional edges")
            for branch in branches.values():
                for target in (branch.ends or {}).values():
                    check_target(target, f"conditional edges {branch.name!r} from {source!r}")
        for spec in self.nodes.values():
            for target in spec.destinations or ():
                check_target(target, f"destinations of node {spec.name!r}")
        if not any(s == START for s, _ in self.edges) and START not in self.branches:
            raise InvalidGraphError(
                "Graph must have an entry point: add an edge from START (add_edge(START, "
                "'node') or set_entry_point('node')) or conditional edges from START."
            )

    def compile(
        self,
        checkpointer: Any = None,
        *,
        interrupt_before: Any = None,
        interrupt_after: Any = None,
        debug: bool = False,
        name: str | None = None,
        scheduling: str = "superstep",
        executor: str | None = None,
        timeout: float | None = None,
        retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
        pool: Any = None,
        ray_pool: Any = None,
        store: Any = None,
        cache: Any = None,
        **unsupported: Any,
    ) -> CompiledStateGraph:
        """Validate the graph and return a runnable :class:`CompiledStateGraph`.

        ``scheduling="superstep"`` (the default) runs LangGraph's supersteps;
        ``"eager"`` starts each task as soon as its own inputs are ready, so a
        fast branch never waits for a slow sibling (see ``graphpool._eager``).
        ``executor``, ``timeout`` and ``retry_policy`` are defaults for nodes
        that set none of their own (see :meth:`add_node`); a run's
        ``config["executor"]`` overrides the ``executor`` default. ``pool`` is a
        :class:`~graphpool.ThreadPool`, :class:`~graphpool.ProcessPool` or
        :class:`~graphpool.AsyncPool` (for ``async def`` nodes) that
        this graph's runs share with any other graph given the same pool
        (a run's ``config["pool"]`` overrides it); without one, runs use the
        process-wide default pools.

        ``checkpointer`` (a :mod:`graphpool.checkpoint` saver) saves each thread's
        state after every step so runs can continue and resume after a crash;
        ``interrupt_before``/``interrupt_after`` (node names or ``"*"``) pause a
        run before or after those nodes, to be continued with ``invoke(None, config)``.

        ``ray_pool`` is the :class:`~graphpool.RayPool` for ``executor="ray"``
        nodes (default: one shared pool, see ``RayPool`` for where it connects).

        Raises:
            InvalidGraphError: the graph is malformed (the message names the node
                or edge and how to fix it), or asks for a feature not supported yet.
        """
        if unsupported:
            raise InvalidGraphError(f"compile() got unsupported options: {sorted(unsupported)}.")
        if scheduling not in ("superstep", "eager"):
            raise InvalidGraphError(
                f"compile(scheduling={scheduling!r}): choose 'superstep' or 'eager'."
            )
        if timeout is None:
            timeout = self._node_defaults.get("timeout")
        idle = None
        if timeout is not None:
            timeout, idle = check_timeout(timeout, "compile(): timeout", InvalidGraphError)
        if ray_pool is not None and getattr(ray_pool, "kind", None) != "ray":
            raise InvalidGraphError(f"compile(ray_pool={ray_pool!r}): pass a graphpool.RayPool.")
        if executor is not None:
            check_choice(executor, "compile(): executor", InvalidGraphError, known_executors())
            for spec in self.nodes.values():
                if spec.executor is None and not (spec.callee.is_async and executor == "thread"):
                    _check_executor(spec.name, executor, spec.callee)
        saver = _checkpointer(checkpointer)
        if store is not None and not callable(getattr(store, "batch", None)):
            raise InvalidGraphError(f"compile(store={store!r}): pass a graphpool.store BaseStore.")
        if cache is not None and not callable(getattr(cache, "get", None)):
            raise InvalidGraphError(f"compile(cache={cache!r}): pass a graphpool.cache BaseCache.")
        before = self._interrupt_nodes("interrupt_before", interrupt_before)
        after = self._interrupt_nodes("interrupt_after", interrupt_after)
        if scheduling == "eager" and any(spec.defer for spec in self.nodes.values()):
            raise InvalidGraphError(
                "compile(scheduling='eager') cannot hold back a node added with defer=True "
                "(it has no supersteps to wait for); use the default scheduling."
            )
        if scheduling == "eager" and (before or after):
            raise InvalidGraphError(
                "compile(scheduling='eager') has no supersteps to pause between; use the "
                "default scheduling with interrupt_before/interrupt_after."
            )
        self.validate()
        from ._compiled import CompiledStateGraph

        self.compiled = True
        if pool is not None and getattr(pool, "kind", None) not in ("thread", "process", "async"):
            raise InvalidGraphError(
                f"compile(pool={pool!r}): expected a graphpool ThreadPool, ProcessPool or "
                "AsyncPool."
            )
        if executor is None and pool is not None and pool.kind == "process":
            executor = "process"
        policies = _policies("compile(): retry_policy", retry_policy)
        if not policies:
            policies = self._node_defaults.get("retry_policy", ())
        default_cache = self._node_defaults.get("cache_policy")
        if default_cache is not None:
            for name, spec in self.nodes.items():
                if spec.cache_policy is None:
                    self.nodes[name] = dataclasses.replace(spec, cache_policy=default_cache)
        topology = Topology.of(
            self, executor=executor, timeout=timeout, idle=idle, retry_policy=policies
        )
        compiled = CompiledStateGraph(
            self,
            topology,
            name=name or "LangGraph",
            debug=debug,
            scheduling=scheduling,
            pool=pool,
            ray_pool=ray_pool,
            checkpointer=saver,
            store=store,
            cache=cache,
            interrupt_before=before,
            interrupt_after=after,
        )
        if checkpointer is True or checkpointer is False:  # a subgraph's choice (see _nest)
            compiled.nest_checkpointer = checkpointer
        return compiled

    def _interrupt_nodes(self, option: str, nodes: Any) -> Any:
        """``"*"`` or a frozenset of node names, checked to exist."""
        if not nodes:
            return frozenset()
        if nodes == "*":
            return "*"
        names = [nodes] if isinstance(nodes, str) else list(nodes)
        handlers = {handler_name(n) for n in self._error_handlers}
        if "error_handler" in self._node_defaults:
            handlers.add(DEFAULT_HANDLER)
        for name in names:
            if name not in self.nodes and name not in handlers:
                raise InvalidGraphError(
                    f"compile({option}=...): node {name!r} not found (nodes: {sorted(self.nodes)})."
                )
        return frozenset(names)


def _subgraph_of(name: str, action: Any, executor: str | None) -> SubgraphNode | None:
    """A compiled graph given as a node, as the node that runs it (a nested run)."""
    from ._compiled import CompiledStateGraph

    if not isinstance(action, CompiledStateGraph):
        return None
    if executor in ("process", "ray"):
        raise InvalidGraphError(
            f"Node {name!r} is a compiled graph: a subgraph runs in its parent's task, on the "
            f"parent's pools (its own nodes choose their executors), not on executor="
            f"{executor!r}. Drop executor= here, or set it on the subgraph's nodes."
        )
    return SubgraphNode(action)


def _checkpointer(checkpointer: Any) -> Any:
    """The saver to use, or None; anything but a graphpool saver is refused clearly.

    ``True`` and ``False`` are a subgraph's choices (see ``_nest``): no saver of its own."""
    if checkpointer is None or checkpointer is False or checkpointer is True:
        return None
    from .checkpoint.base import BaseCheckpointSaver

    if not isinstance(checkpointer, BaseCheckpointSaver):
        raise InvalidCheckpointerError(
            "Invalid checkpointer provided. Expected a graphpool saver "
            "(graphpool.checkpoint.InMemorySaver, SqliteSaver or PostgresSaver), True, False "
            f"or None; received {type(checkpointer).__name__}. LangGraph's savers store "
            "LangGraph's own checkpoint format."
        )
    return checkpointer
