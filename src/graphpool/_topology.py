"""The frozen shape of a compiled graph: what the scheduler consults every step."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

from ._branch import Branch
from ._constants import END, START
from ._handlers import DEFAULT_HANDLER, handler_specs
from ._node import NodeSpec
from ._schema import Schema
from .types import RetryPolicy

__all__ = ["Join", "Topology"]


@dataclasses.dataclass(frozen=True)
class Join:
    """``add_edge([a, b], c)``: ``c`` runs once every source has run since it last ran."""

    sources: frozenset[str]
    target: str
    channel: str  # LangGraph's name for it, shown in task triggers


@dataclasses.dataclass(frozen=True)
class Topology:
    """Nodes and edges of a compiled graph, indexed for the scheduler.

    Attributes:
        nodes: node specs by name, in the order they were added.
        index: each node's position in that order (pull tasks are created in it).
        edges: static successors of each node (and of START), END removed, sorted.
        joins: join edges, and ``joins_from[source]`` the joins it feeds.
        branches: conditional edges of each node, in the order they were added.
        state: the state schema; ``input``/``output`` the caller-facing schemas;
            ``writable`` has every state key (the union of the three).
        default_executor, default_timeout, default_retry: ``compile()``'s
            defaults for nodes that set none of their own.
        handled_by: the error-handler node (a hidden node in ``nodes``) that runs
            in place of each node whose attempts are used up.
    """

    nodes: Mapping[str, NodeSpec]
    index: Mapping[str, int]
    edges: Mapping[str, tuple[str, ...]]
    joins: tuple[Join, ...]
    joins_from: Mapping[str, tuple[int, ...]]
    branches: Mapping[str, tuple[Branch, ...]]
    state: Schema
    input: Schema
    output: Schema
    writable: Schema
    default_executor: str | None = None
    default_timeout: float | None = None
    default_retry: tuple[RetryPolicy, ...] = ()
    default_idle: tuple[float, str] | None = None
    handled_by: Mapping[str, str] = dataclasses.field(default_factory=dict)  # error handlers

    @classmethod
    def of(
        cls,
        builder: Any,
        *,
        executor: str | None = None,
        timeout: float | None = None,
        idle: tuple[float, str] | None = None,
        retry_policy: tuple[RetryPolicy, ...] = (),
    ) -> Topology:
        edges: dict[str, list[str]] = {}
        for source, target in sorted(builder.edges):
            if target != END:
                edges.setdefault(source, []).append(target)
        joins = tuple(
            Join(frozenset(sources), target, f"join:{'+'.join(sources)}:{target}")
            for sources, target in sorted(builder.waiting_edges)
            if target != END
        )
        joins_from: dict[str, list[int]] = {}
        for i, join in enumerate(joins):
            for source in join.sources:
                joins_from.setdefault(source, []).append(i)
        privates = [s.input_schema for s in builder.nodes.values() if s.input_schema is not None]
        privates += [
            b.input_schema
            for bs in builder.branches.values()
            for b in bs.values()
            if b.input_schema is not None
        ]
        writable = builder.state_schema.merged(
            builder.input_schema, builder.output_schema, *privates
        )
        handlers, handled_by = handler_specs(
            builder.nodes, builder._error_handlers, builder._node_defaults.get("error_handler")
        )
        nodes: dict[str, NodeSpec] = {}
        for name, spec in builder.nodes.items():  # LangGraph's order: a handler first
            own = handled_by.get(name)
            if own is not None and own != DEFAULT_HANDLER:
                nodes[own] = handlers[own]
            nodes[name] = spec
        nodes.update(handlers)  # the default handler last
        return cls(
            nodes=nodes,
            index={name: i for i, name in enumerate(nodes)},
            edges={k: tuple(v) for k, v in edges.items()},
            joins=joins,
            joins_from={k: tuple(v) for k, v in joins_from.items()},
            branches={k: tuple(v.values()) for k, v in builder.branches.items() if v},
            state=builder.state_schema,
            input=builder.input_schema,
            output=builder.output_schema,
            writable=writable,
            default_executor=executor,
            default_timeout=timeout,
            default_retry=retry_policy,
            default_idle=idle,
            handled_by=handled_by,
        )

    @functools.cached_property
    def timeouts(self) -> Mapping[str, float | None]:
        """Seconds an attempt of each node may run (its own, else the graph default)."""
        default = self.default_timeout
        timeouts = {
            n: s.timeout if s.timeout is not None or s.idle is not None else default
            for n, s in self.nodes.items()
        }
        timeouts[START] = None
        return timeouts

    @functools.cached_property
    def idle_limits(self) -> Mapping[str, tuple[float, str] | None]:
        """Each node's idle limit ``(seconds, refresh_on)`` (a ``TimeoutPolicy``'s), or None.

        A node with a timeout of its own takes none of the graph default's."""
        default = self.default_idle
        limits = {
            n: s.idle if s.idle is not None or s.timeout is not None else default
            for n, s in self.nodes.items()
        }
        limits[START] = None
        return limits

    @functools.cached_property
    def unlimited(self) -> frozenset[str]:
        """Nodes (and START) whose attempts may run as long as they take: no cap, no idle limit."""
        idle = self.idle_limits
        return frozenset(n for n, cap in self.timeouts.items() if cap is None and idle[n] is None)

    @functools.cached_property
    def plain(self) -> Mapping[str, Any]:
        """Nodes without conditional edges, with their callees: their tasks are the
        node call and nothing more."""
        branches = self.branches
        return {name: spec.callee for name, spec in self.nodes.items() if not branches.get(name)}

    @functools.cached_property
    def pulls(self) -> Mapping[str, tuple[tuple[int, str], tuple[str]]]:
        """Each node's pull task's ``(order, triggers)`` when an edge routes to it
        (made once: a chain makes one such task per step)."""
        return {name: ((0, name), ("branch:to:" + name,)) for name in self.nodes}

    @functools.cached_property
    def deferred(self) -> frozenset[str]:
        """Nodes added with ``defer=True``."""
        return frozenset(name for name, spec in self.nodes.items() if spec.defer)

    @functools.cached_property
    def runner_tables(self) -> dict[Any, dict[str, Any]]:
        """Per-graph cache of which runner each node uses (see ``_dispatch``)."""
        return {}

    @functools.cached_property
    def readers(self) -> Mapping[str, Schema]:
        """The schema each node (and its routes) read the state through."""
        readers = {name: spec.input_schema or self.state for name, spec in self.nodes.items()}
        readers[START] = self.input
        return readers

    def reader_of(self, node: str) -> Schema:
        """The schema a node (and its routes) read the state through."""
        return self.readers[node]
