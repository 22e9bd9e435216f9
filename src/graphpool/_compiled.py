"""``CompiledStateGraph``: the runnable graph ``StateGraph.compile()`` returns."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import types
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _lc
from ._calls import Call, Config, batch_limit, configs_for, pick, result_of
from ._config import RunOptions
from ._nest import for_parent, nest_of, recast
from ._observe import observe_async, observe_sync
from ._pool import Pools, WorkerPool, default_pool
from ._runnable import RunnableSurface
from ._topology import Topology
from .errors import EmptyInputError, InvalidConfigError, InvalidResumeError, ParentCommand
from .types import Command

if TYPE_CHECKING:
    # Loaded when used: ``import graphpool`` builds graphs without loading the
    # runtime, and a graph without a checkpointer never loads the store.
    from ._checkpointing import Checkpointing
    from ._core import ResumePlan, Run
    from ._core.chunks import Scope
    from ._draw import DrawableGraph
    from ._nest import Nest
    from ._node import NodeSpec
    from ._services import Services
    from .checkpoint.base import BaseCheckpointSaver, StateSnapshot
    from .runtime import Runtime

__all__ = ["CompiledStateGraph"]


class CompiledStateGraph(RunnableSurface):
    """A validated graph, ready to run; made by :meth:`StateGraph.compile`.

    Runs follow LangGraph's superstep semantics. Sync nodes run on a thread
    pool, async nodes on an event loop; ``config={"max_workers": n}`` (or
    LangGraph's ``max_concurrency``) caps how many of a run's tasks run at once.

    With a ``checkpointer``, every run belongs to the thread named by
    ``config["configurable"]["thread_id"]``: a checkpoint is saved after each
    step, and invoking the thread again continues from its saved state.
    """

    stream_every_key = True
    """``stream()``'s ``values`` chunks show every state key, as LangGraph's do (an
    entrypoint's graph shows only its output)."""

    def __init__(
        self,
        builder: Any,
        topology: Topology,
        *,
        name: str,
        debug: bool = False,
        scheduling: str = "superstep",
        pool: WorkerPool | None = None,
        ray_pool: Any = None,
        checkpointer: BaseCheckpointSaver | None = None,
        store: Any = None,
        cache: Any = None,
        interrupt_before: Collection[str] = (),
        interrupt_after: Collection[str] = (),
    ) -> None:
        self.builder = builder
        self.name = name
        self.debug = debug
        self.scheduling = scheduling
        self.stream_mode = "updates"  # what stream() gives without stream_mode, as LangGraph
        self.checkpointer = checkpointer
        self.nest_checkpointer: bool | None = None  # compile(checkpointer=True/False)
        self.store = store
        self.cache = cache
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.topology = topology
        self.step_timeout: float | None = None  # seconds one step may take (LangGraph's)
        self.pool = pool
        self._pools: Pools | None = None
        self._ray_pool = ray_pool

    def __repr__(self) -> str:
        return f"<CompiledStateGraph {self.name!r} nodes={list(self.topology.nodes)}>"

    @property
    def nodes(self) -> Mapping[str, NodeSpec]:
        """The graph's nodes by name (its error handlers' included), read-only."""
        return types.MappingProxyType(dict(self.topology.nodes))

    @property
    def pools(self) -> Pools:
        """The pools this graph's runs use unless their config names another pool."""
        if self._pools is None:
            self._pools = _pools_for(self.pool, self._ray_pool)
        return self._pools

    def _call(
        self, stream_mode: str | Sequence[str] | None, *, debug: bool | None, **options: Any
    ) -> Call:
        """A call's options, with the graph's defaults where the call gave none.

        A call with nothing but a stream mode (the usual ``invoke``) reuses the
        ``Call`` made for the first such call: checking them anew costs more
        than a short run's step.
        """
        mode = self.stream_mode if stream_mode is None else stream_mode
        debug = self.debug if debug is None else debug
        key = None
        if (
            type(mode) is str
            and options.get("print_mode") == ()
            and options.get("interrupt_before") is None
            and options.get("interrupt_after") is None
            and options.get("durability") is None
            and not options.get("subgraphs")
            and not options.get("unknown")
            and options.get("version") == "v1"
        ):
            key = (mode, bool(debug))
            call = self._plain_calls.get(key)
            if call is not None:
                return call
        mappers = self._mappers
        call = Call.of(mode, debug=debug, mapper=mappers[0], state_mapper=mappers[1], **options)
        if key is not None:
            self._plain_calls[key] = call
        return call

    @functools.cached_property
    def _plain_calls(self) -> dict[tuple[str, bool], Call]:
        return {}

    @functools.cached_property
    def _mappers(self) -> tuple[Any, Any]:
        """The output's and the state's ``_mapper`` (the builder is fixed at compile)."""
        return _mapper(self.builder, "output_schema"), _mapper(self.builder, "state_schema")

    @contextlib.contextmanager
    def _session(
        self,
        input: Any,
        config: Config,
        call: Call,
        *,
        context: Any = None,
        final_only: bool = False,
        every_key: bool = False,
    ) -> Iterator[tuple[Run, Services]]:
        """A run of this graph and the services it uses, for as long as it runs.

        (The runtime's modules load here, at the first run, not at import.)

        With a checkpointer the run holds its thread (see ``_checkpointing``)
        until the block ends; without one, only fresh input makes sense.
        """
        config = self._with_defaults(config)  # with_config's defaults under the call's
        FRESH, EagerRun, Run, SYSTEM_CLOCK, Services, EventSink = _run_parts()
        from .runtime import Runtime, coerce_context, server_info

        nest = nest_of(self)
        own_thread = False
        if nest is not None:  # a subgraph's run, inside its parent's task
            config, own_thread = _inherited_config(nest, config)
            if own_thread:
                nest = dataclasses.replace(nest, detached=True)
            else:
                config = _nested_config(config, nest.ns)
        options = RunOptions.from_config(config)
        callbacks = bool(options.config.get("callbacks")) and _lc.loaded()  # the caller's
        if nest is not None:
            pools = nest.job.dispatcher.pools
        else:
            pools = self.pools if options.pool is None else _pools_for(options.pool, self._ray_pool)
        if pools.primary.kind == "process" and options.executor is None:
            options = dataclasses.replace(options, executor="process")
        modes = call.modes
        forwarding = nest is not None and nest.subgraphs
        if forwarding:  # the root streams these modes from inside subgraphs too
            sent_up = nest.modes.intersection(_CALLBACK_MODES) if own_thread else nest.modes  # type: ignore[union-attr]
            extra = sent_up.difference(("custom",), modes)
            modes = (*modes, *sorted(extra))
            final_only = False
        sink = on_output = None
        if nest is not None and _lc.loaded():
            from ._stream_messages import detach

            options = detach(options)
        if "messages" in modes:
            from ._stream_messages import attach

            if nest is None:
                options, sink, on_output = attach(options)
            else:
                root = nest.job.dispatcher.run.on_output
                options, sink, on_output = attach(options, ns=nest.ns, root=root)
        if "tools" in modes:
            from ._sink import EventSink
            from ._stream_tools import attach as with_tools

            sink = EventSink() if sink is None else sink
            options = with_tools(options, sink)
        if callbacks:  # one callback run for the run and one per node, as LangGraph's
            from ._lc_callbacks import attach as with_callback_runs

            options = with_callback_runs(options, self.get_name(), input)
        if nest is not None:
            parent_runtime = nest.job.runtime
            runtime: Runtime[Any] = Runtime(
                context=parent_runtime.context
                if context is None
                else coerce_context(self.builder.context_schema, context),
                store=self.store if self.store is not None else parent_runtime.store,
                server_info=parent_runtime.server_info,
                control=parent_runtime.control,
            )
            writer = nest.writer()
            if writer is not None:
                runtime = runtime.override(stream_writer=writer)
        else:
            runtime = Runtime(
                context=coerce_context(self.builder.context_schema, context),
                store=self.store,
                server_info=server_info((config or {}).get("configurable") or {}),
                control=call.control,
            )
        if "custom" in modes and nest is None:  # chunks a node writes go out while it runs
            if sink is None:
                sink = EventSink()
            runtime = runtime.override(stream_writer=functools.partial(sink.push, "custom"))
        if call.namespaced and sink is None and nest is None:  # subgraphs' chunks come here
            sink = EventSink()
        hook: Checkpointing | None = None
        plan: ResumePlan = FRESH
        checkpoint_ids = None
        saver = self.checkpointer
        replay_map: dict[str, str] = {}
        before: Any = None  # a _checkpointing.Replay: where this subgraph starts from
        fallback: tuple[Any, ...] = ()  # a resumed subgraph's input, if nothing was saved
        rerun = False
        if nest is None and saver is not None:  # maybe a subgraph's config: replay from it
            config, replay_map = _replay_target(config)
        if nest is not None and not own_thread:
            saver, config = self._nested_saver(nest, config)
            if saver is not None:
                resuming, resume = nest.resume_input()
                if resuming:  # unless it never ran: then it starts with its input
                    fallback, input = (input,), resume
                replay_map = nest.replay_map()
                ns = config["configurable"]["checkpoint_ns"]
                stable = ":" not in ns.rsplit("|", 1)[-1]  # a task's namespace is new on replay
                if stable and ns in replay_map:  # time travel to a checkpoint of this subgraph
                    config = {
                        **config,
                        "configurable": {**config["configurable"], "checkpoint_id": replay_map[ns]},
                    }
                    input = nest.resume_command()
                    rerun = input is None
                elif not resuming:
                    replay = nest.replay()
                    if replay is not None and replay.first_visit(ns):
                        before = replay
        durability = call.durability
        parent_hook = nest.job.dispatcher.services.durability if nest is not None else None
        if parent_hook is not None and durability == "sync":  # a subgraph's: its root's
            durability = parent_hook.durability
        if saver is not None:
            from ._checkpointing import open_thread
            from .checkpoint.base import new_checkpoint_id

            checkpoint_ids = new_checkpoint_id
            hook, plan = open_thread(
                saver,
                input,
                config,
                options.recursion_limit,
                durability,
                before=before,
                rerun=rerun,
                fallback=fallback,
                root=None if own_thread else parent_hook,
            )
            hook.replay_map = replay_map
            if nest is not None and not own_thread:
                hook.parents = nest.parents()
                hook.replay = nest.replay()
        elif isinstance(input, Command):
            raise InvalidResumeError(
                "A Command input resumes a saved thread; compile the graph with a "
                "checkpointer (e.g. compile(checkpointer=InMemorySaver())) to use it."
            )
        elif input is None:
            raise EmptyInputError(
                "invoke(None) continues a saved thread, but this graph has no checkpointer: "
                "pass an input, or compile(checkpointer=...) to continue threads."
            )
        try:
            observers = options.observer
            if nest is not None and observers.quiet():  # a subgraph's tasks show in its root's
                observers = nest.job.dispatcher.services.observers
            kind = EagerRun if self.scheduling == "eager" else Run
            run = kind(
                self.topology,
                options,
                modes,
                clock=SYSTEM_CLOCK,
                plan=plan,
                checkpoint_ids=checkpoint_ids,
                interrupt_before=pick(call.interrupt_before, self.interrupt_before),
                interrupt_after=pick(call.interrupt_after, self.interrupt_after),
                observing=not observers.quiet(),
                final_only=final_only,
                on_output=on_output,
                control=call.control,
                every_key=every_key,
            )
            if hook is not None and ("checkpoints" in modes or "debug" in modes):
                run.scope = self._scope(config, hook, durability)
            run.step_timeout = self.step_timeout
            if options.callbacks is not None:
                options.callbacks.core = run
            session = (
                run,
                Services(
                    pools,
                    observers,
                    hook,
                    sink,
                    runtime,
                    self.cache,
                    nest=nest,
                    subgraphs=call.namespaced and nest is None,
                ),
            )
            yield session
            if hook is not None and nest is not None and run.paused is None:
                # durability="exit": a subgraph that finished leaves no checkpoint,
                # unless it keeps one thread (checkpointer=True), as in LangGraph
                ns = ((config or {}).get("configurable") or {}).get("checkpoint_ns") or ""
                if any(":" in part for part in ns.split("|")):
                    hook.drop_held()
        finally:
            if hook is not None:
                hook.close()

    def _scope(self, config: Any, hook: Checkpointing, durability: str) -> Scope:
        """Where a durable run's checkpoints go, as its checkpoint chunks name them."""
        from ._core.chunks import Scope
        from ._snapshots import subgraph_of

        configurable = (config or {}).get("configurable") or {}
        return Scope(
            thread_id=configurable.get("thread_id"),
            ns=configurable.get("checkpoint_ns") or "",
            parents=dict(hook.parents),
            subgraph_nodes=frozenset(n for n in self.topology.nodes if subgraph_of(self, n)),
            held=durability == "exit",
        )

    def _nested_saver(self, nest: Nest, config: Any) -> tuple[BaseCheckpointSaver | None, Any]:
        """Where a subgraph's run saves, by its ``compile(checkpointer=...)``: its own
        saver; None: the parent's, under the task's namespace; True: the parent's,
        one thread for every call of this node (``recast`` namespace); False: nowhere."""
        if self.checkpointer is not None:
            return self.checkpointer, config
        if self.nest_checkpointer is False:
            return None, config
        durability = nest.job.dispatcher.services.durability
        if durability is None:
            return None, config
        if self.nest_checkpointer is True:
            config = _nested_config(config, recast(nest.ns))
        return durability.saver, config

    @staticmethod
    def _events(run: Run, services: Services, events: Iterator[Any]) -> Iterator[Any]:
        """A subgraph's events: relayed to the root's stream, and its pause raised
        into the parent's task (which then pauses with the same interrupts)."""
        nest = services.nest
        if nest is None:
            return events
        return _nested_events(run, nest, events)

    @staticmethod
    def _aevents(run: Run, services: Services, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
        nest = services.nest
        if nest is None:
            return events
        return _anested_events(run, nest, events)

    def clear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """Forget the cached results of ``nodes`` (default: every node with a
        ``cache_policy``)."""
        if self.cache is None:
            return
        from .cache import node_namespace

        specs = self.topology.nodes
        names = [n for n in (nodes or specs) if specs[n].cache_policy is not None]
        self.cache.clear([node_namespace(n, specs[n].callee.fn) for n in names])

    async def aclear_cache(self, nodes: Sequence[str] | None = None) -> None:
        """:meth:`clear_cache`, off the event loop."""
        import asyncio

        await asyncio.to_thread(self.clear_cache, nodes)

    def get_graph(self, config: Config = None, *, xray: int | bool = False) -> DrawableGraph:
        """A drawable view of this graph: ``get_graph().draw_mermaid()`` gives LangGraph's text.

        ``xray=True`` (or a depth) draws subgraph nodes as the graphs they run
        (``config`` is accepted for compatibility).
        """
        from ._draw import DrawableGraph
        from ._shape import discover

        drawing = DrawableGraph.from_shape(
            discover(self.topology),
            self.topology.nodes,
            self.interrupt_before,
            self.interrupt_after,
        )
        if not xray:
            return drawing
        from ._draw_xray import expand

        deeper = xray if isinstance(xray, bool) or xray <= 0 else xray - 1
        inner = {name: sub.get_graph(config, xray=deeper) for name, sub in self.get_subgraphs()}
        return expand(drawing, inner)

    # -- streaming -------------------------------------------------------------

    def stream(
        self,
        input: Any,
        config: Config = None,
        *,
        context: Any = None,
        stream_mode: str | Sequence[str] | None = None,
        print_mode: str | Sequence[str] = (),
        interrupt_before: Collection[str] | None = None,
        interrupt_after: Collection[str] | None = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run the graph, yielding chunks as the run goes.

        ``updates`` (the default, as LangGraph's): ``{node: update}`` as each
        task finishes; ``values``: the whole state after each step that wrote
        to it; ``tasks`` and ``debug``: task start and result events;
        ``messages``: ``(message, metadata)`` for each chat model token and each
        new message a node returns (needs langchain-core); ``tools``: each tool
        call's start, partial output and end. With a list of modes, chunks are
        ``(mode, chunk)`` tuples; with ``subgraphs=True``, ``(namespace, ...)``
        tuples; with ``version="v2"``, each chunk is one
        :data:`~graphpool.types.StreamPart` dict (``type``, ``ns``, ``data``) whatever
        the options. ``interrupt_before``/``interrupt_after`` replace the graph's
        breakpoints for this run; ``print_mode`` (and ``debug=True``, for
        ``debug``) print those modes' chunks.

        Raises:
            InvalidConfigError: an unknown mode, durability, version or argument.
        """
        call = self._call(
            stream_mode,
            print_mode=print_mode,
            subgraphs=subgraphs,
            debug=debug,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            version=version,
            unknown=kwargs,
        )
        with self._session(
            input, config, call, context=context, every_key=self.stream_every_key
        ) as (
            run,
            services,
        ):
            drive_sync = _drivers().drive_sync

            events = self._events(run, services, drive_sync(run, services, input))
            for mode, chunk in observe_sync(services.observers, run.options.run_id, events):
                yield from call.out(mode, chunk)

    async def astream(
        self,
        input: Any,
        config: Config = None,
        *,
        context: Any = None,
        stream_mode: str | Sequence[str] | None = None,
        print_mode: str | Sequence[str] = (),
        interrupt_before: Collection[str] | None = None,
        interrupt_after: Collection[str] | None = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async :meth:`stream`: async nodes run on the caller's event loop."""
        call = self._call(
            stream_mode,
            print_mode=print_mode,
            subgraphs=subgraphs,
            debug=debug,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            version=version,
            unknown=kwargs,
        )
        with self._session(
            input, config, call, context=context, every_key=self.stream_every_key
        ) as (
            run,
            services,
        ):
            drive_async = _drivers().drive_async

            events = self._aevents(run, services, drive_async(run, services, input))
            observed = observe_async(services.observers, run.options.run_id, events)
            async with contextlib.aclosing(observed):
                async for mode, chunk in observed:
                    for item in call.out(mode, chunk):
                        yield item

    # -- one-shot --------------------------------------------------------------

    def invoke(
        self,
        input: Any,
        config: Config = None,
        *,
        context: Any = None,
        stream_mode: str = "values",
        print_mode: str | Sequence[str] = (),
        interrupt_before: Collection[str] | None = None,
        interrupt_after: Collection[str] | None = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Run the graph to the end and return its final state (a dict of the output keys).

        If the run paused in :func:`~graphpool.types.interrupt`, the state has an
        ``"__interrupt__"`` list of :class:`~graphpool.types.Interrupt`. With
        ``version="v2"``, a :class:`~graphpool.types.GraphOutput` holds the state
        and the interrupts apart.
        With a checkpointer, ``input=None`` continues the thread where it stopped
        and ``Command(resume=...)`` answers its pending interrupts.

        Raises:
            GraphRecursionError: more than ``recursion_limit`` supersteps.
            InvalidUpdateError: conflicting or malformed writes.
            ThreadBusyError: another run is using the thread.
            Exception: whatever a node raised, with its own type.
        """
        call = self._call(
            stream_mode,
            print_mode=print_mode,
            debug=debug,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            subgraphs=subgraphs,
            version=version,
            unknown=kwargs,
        )
        only_values = call.modes == ("values",)
        with self._session(input, config, call, context=context, final_only=only_values) as (
            run,
            services,
        ):
            drive_sync = _drivers().drive_sync

            events = self._events(run, services, drive_sync(run, services, input))
            observed = observe_sync(services.observers, run.options.run_id, events)
            return result_of(call, stream_mode, observed)

    async def ainvoke(
        self,
        input: Any,
        config: Config = None,
        *,
        context: Any = None,
        stream_mode: str = "values",
        print_mode: str | Sequence[str] = (),
        interrupt_before: Collection[str] | None = None,
        interrupt_after: Collection[str] | None = None,
        durability: str | None = None,
        subgraphs: bool = False,
        debug: bool | None = None,
        version: str = "v1",
        **kwargs: Any,
    ) -> Any:
        """Async :meth:`invoke`."""
        call = self._call(
            stream_mode,
            print_mode=print_mode,
            debug=debug,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability,
            subgraphs=subgraphs,
            version=version,
            unknown=kwargs,
        )
        chunks: list[tuple[str, Any]] = []
        only_values = call.modes == ("values",)
        with self._session(input, config, call, context=context, final_only=only_values) as (
            run,
            services,
        ):
            drive_async = _drivers().drive_async

            events = self._aevents(run, services, drive_async(run, services, input))
            observed = observe_async(services.observers, run.options.run_id, events)
            # closed at once if the caller is cancelled: its queued tasks go with it
            async with contextlib.aclosing(observed):
                async for item in observed:
                    chunks.append(item)
        return result_of(call, stream_mode, chunks)

    # -- thread state (needs a checkpointer) -------------------------------------

    def _saver(self) -> BaseCheckpointSaver:
        if self.checkpointer is None:
            raise InvalidConfigError(
                "No checkpointer set: compile(checkpointer=...) to save threads."
            )
        return self.checkpointer

    def get_state(self, config: Mapping[str, Any], *, subgraphs: bool = False) -> StateSnapshot:
        """The thread's state: its values, the nodes to run next, pending interrupts.

        The latest checkpoint, or the one ``config["configurable"]["checkpoint_id"]``
        names; an empty snapshot for a thread with nothing saved. A config with a
        subgraph's ``checkpoint_ns`` reads that subgraph's state; with
        ``subgraphs=True``, each subgraph task's ``state`` is its snapshot.
        """
        from . import _snapshots

        return _snapshots.get_state(self._saver(), self, config, subgraphs)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, CompiledStateGraph]]:
        """``(name, graph)`` of each compiled graph added as a node (``recurse``: also
        theirs, named ``outer|inner``); with ``namespace``, only the one there."""
        from ._snapshots import subgraphs_of

        return subgraphs_of(self, namespace, recurse)

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, CompiledStateGraph]]:
        """Async :meth:`get_subgraphs`."""
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item

    def get_state_history(
        self,
        config: Mapping[str, Any],
        *,
        filter: Mapping[str, Any] | None = None,
        before: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> Iterator[StateSnapshot]:
        """Every checkpoint of the thread, newest first, as :class:`StateSnapshot`."""
        from . import _snapshots

        return _snapshots.get_state_history(
            self._saver(), self, config, filter=filter, before=before, limit=limit
        )

    def update_state(
        self,
        config: Mapping[str, Any],
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Change the thread's state as if ``as_node`` had returned ``values``; see
        :func:`graphpool._updates.update_state`. Returns the new checkpoint's config."""
        from . import _updates

        return _updates.update_state(self._saver(), self, config, values, as_node, task_id)

    def bulk_update_state(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Apply supersteps of ``StateUpdate``s, one checkpoint each; see
        :func:`graphpool._updates.bulk_update_state`."""
        from . import _updates

        return _updates.bulk_update_state(self._saver(), self, config, supersteps)

    async def aget_state(
        self, config: Mapping[str, Any], *, subgraphs: bool = False
    ) -> StateSnapshot:
        """Async :meth:`get_state` (runs the saver in a thread)."""
        import asyncio

        return await asyncio.to_thread(self.get_state, config, subgraphs=subgraphs)

    async def aget_state_history(
        self, config: Mapping[str, Any], **kwargs: Any
    ) -> AsyncIterator[StateSnapshot]:
        """Async :meth:`get_state_history`."""
        import asyncio

        snapshots = await asyncio.to_thread(lambda: list(self.get_state_history(config, **kwargs)))
        for snapshot in snapshots:
            yield snapshot

    async def aupdate_state(
        self,
        config: Mapping[str, Any],
        values: Any,
        as_node: str | None = None,
        task_id: str | None = None,
    ) -> dict[str, Any]:
        """Async :meth:`update_state`."""
        import asyncio

        return await asyncio.to_thread(self.update_state, config, values, as_node, task_id)

    async def abulk_update_state(
        self, config: Mapping[str, Any], supersteps: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Async :meth:`bulk_update_state`."""
        import asyncio

        return await asyncio.to_thread(self.bulk_update_state, config, supersteps)

    def batch(
        self,
        inputs: Sequence[Any],
        config: Config | Sequence[Config] = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Invoke once per input, concurrently; results in input order."""
        configs = configs_for(config, len(inputs))
        if not inputs:
            return []

        def one(i: int) -> Any:
            try:
                return self.invoke(inputs[i], configs[i])
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        limit = batch_limit(configs)
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(min(limit, len(inputs))) as drivers:
            return list(drivers.map(one, range(len(inputs))))

    async def abatch(
        self,
        inputs: Sequence[Any],
        config: Config | Sequence[Config] = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[Any]:
        """Async :meth:`batch`."""
        configs = configs_for(config, len(inputs))
        import asyncio

        gate = asyncio.Semaphore(batch_limit(configs))

        async def one(i: int) -> Any:
            async with gate:
                return await self.ainvoke(inputs[i], configs[i])

        return await asyncio.gather(
            *(one(i) for i in range(len(inputs))), return_exceptions=return_exceptions
        )


_CALLBACK_MODES = ("messages", "tools")  # what a graph on its own thread still sends up


@functools.cache
def _run_parts() -> tuple[Any, ...]:
    """What every run needs, imported at the first run rather than at import
    (and looked up once: an import statement costs a microsecond per run)."""
    from ._core import FRESH, EagerRun, Run
    from ._services import SYSTEM_CLOCK, Services
    from ._sink import EventSink

    return FRESH, EagerRun, Run, SYSTEM_CLOCK, Services, EventSink


@functools.cache
def _drivers() -> types.ModuleType:
    from . import _driver

    return _driver


def _mapper(builder: Any, schema: str) -> Any:
    """What turns a state dict into the graph's output (or state) type, for
    ``version="v2"`` parts: the schema's class when it is a dataclass or a pydantic
    model, else None."""
    cls = getattr(getattr(builder, schema, None), "cls", None)
    if not isinstance(cls, type):
        return None
    if dataclasses.is_dataclass(cls) or hasattr(cls, "model_fields"):
        return lambda values: cls(**values)
    return None


def _default_process_pool() -> WorkerPool:
    from ._pool._process import default_process_pool

    return default_process_pool()


def _default_ray_pool() -> WorkerPool:
    from ._pool._ray import default_ray_pool

    return default_ray_pool()


def _pools_for(pool: WorkerPool | None, ray_pool: Any = None) -> Pools:
    """Route each executor kind to the chosen pool, or to the shared defaults."""
    ray = (lambda: ray_pool) if ray_pool is not None else _default_ray_pool
    if pool is None:
        return Pools(default_pool(), _default_process_pool, ray=ray)
    if pool.kind == "thread":
        return Pools(pool, _default_process_pool, primary=pool, ray=ray)
    if pool.kind == "process":
        return Pools(default_pool(), lambda: pool, primary=pool, ray=ray)
    if pool.kind == "async":
        return Pools(default_pool(), _default_process_pool, primary=pool, async_pool=pool, ray=ray)
    raise InvalidConfigError(f"graphpool cannot run graphs on a pool of kind {pool.kind!r} yet.")


def _nested_events(run: Run, nest: Nest, events: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from nest.relay(events)
    except ParentCommand as exc:
        raise for_parent(exc, nest) from None
    if run.paused is not None:
        from .errors import GraphInterrupt

        raise GraphInterrupt(run.paused)


async def _anested_events(run: Run, nest: Nest, events: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        try:
            async for mode, chunk in events:
                for item in nest.relay([(mode, chunk)]):
                    yield item
        except ParentCommand as exc:
            raise for_parent(exc, nest) from None
    if run.paused is not None:
        from .errors import GraphInterrupt

        raise GraphInterrupt(run.paused)


def _replay_target(config: Any) -> tuple[Any, dict[str, str]]:
    """A root run given a subgraph's config (``checkpoint_ns`` set, as
    ``get_state(subgraphs=True)`` gives it): the root replays from the checkpoint
    its ``checkpoint_map`` names for the root, and each subgraph on the way from
    the one it names for that subgraph (LangGraph's time travel into subgraphs)."""
    configurable = (config or {}).get("configurable") or {}
    if not configurable.get("checkpoint_ns"):
        return config, {}
    found = dict(configurable.get("checkpoint_map") or {})
    root = {k: v for k, v in configurable.items() if k not in _NS_KEYS}
    if found.get(""):
        root["checkpoint_id"] = found[""]
    return {**config, "configurable": root}, found


_NS_KEYS = frozenset({"checkpoint_ns", "checkpoint_map", "checkpoint_id"})


def _nested_config(config: Mapping[str, Any] | None, ns: str) -> dict[str, Any]:
    """A config addressing the subgraph namespace ``ns`` (its latest checkpoint)."""
    nested = dict(config or {})
    configurable = dict(nested.get("configurable") or {})
    configurable.pop("checkpoint_id", None)
    configurable["checkpoint_ns"] = ns
    nested["configurable"] = configurable
    return nested


def _inherited_config(nest: Nest, given: Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """A nested run's config: the parent task's, under what the call gave (as
    LangGraph merges a node's config into a graph invoked inside it); and whether
    it names a thread of its own (then it saves there, not under the parent's, and
    streams as a graph of its own: see ``Nest.detached``)."""
    base = nest.job.config
    given = dict(given or {})
    merged = {**base, **given}
    for key in ("configurable", "metadata"):
        if key in given or key in base:
            merged[key] = {**(base.get(key) or {}), **(given.get(key) or {})}
    for key in (
        "langgraph_step",
        "langgraph_node",
        "langgraph_triggers",
        "langgraph_path",
        "graphpool_run_id",
    ):
        merged.get("metadata", {}).pop(key, None)
    asked, inherited = given.get("configurable") or {}, base.get("configurable") or {}
    own, parent = asked.get("thread_id"), inherited.get("thread_id")
    # The node's own config (or a copy of it: its metadata names the node's run)
    # carries its thread on: a subgraph. A thread named anew, even the caller's,
    # starts a graph of its own, as in LangGraph (which then drops the caller's
    # task from the config).
    run_id = (base.get("metadata") or {}).get("graphpool_run_id")
    passed_on = (
        asked is inherited
        or (run_id is not None and (given.get("metadata") or {}).get("graphpool_run_id") == run_id)
        or (
            bool(inherited.get("checkpoint_ns"))
            and asked.get("checkpoint_ns") == inherited.get("checkpoint_ns")
        )
    )
    own_thread = bool(own) and (own != parent or not passed_on)
    if own_thread:
        merged["configurable"].pop("checkpoint_ns", None)
    return merged, own_thread
