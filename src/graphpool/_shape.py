"""Which edges a drawing of a compiled graph shows, found the way LangGraph finds them.

LangGraph does not draw the edges you declared; it runs a dry superstep loop on
empty input and draws the channel writes it sees. That decides some visible
details, which this module reproduces so that ``get_graph()`` gives the same
picture (and the same Mermaid text) for the same graph:

* edges to END declared with ``add_edge(a, END)`` are not drawn as such; every
  node that is drawn as a target but never as a source gets a plain edge to END;
* conditional edges are drawn only where their targets are declared (a
  ``path_map``, a ``Literal`` return type, or ``add_node(destinations=...)``);
  nodes reachable only through undeclared routes (or ``Send``) stay unconnected;
* a declared route is dotted and labelled with its ``path_map`` key (the label
  is dropped where it equals the target's name);
* a join edge is drawn from each source once every source has been reached.

The dry run here works on graphpool's own :class:`Topology`: each node "writes"
the trigger of every static successor, its joins, and, once, the declared
targets of its routes; a node runs in the next dry step when its trigger was
written or one of its joins is complete. It stops when nothing runs or after
``limit`` steps (cyclic graphs).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from ._constants import END, START
from ._node import NodeSpec
from ._topology import Topology

__all__ = ["Shape", "discover"]

Write = tuple[str, Any]  # (channel, value)
Source = tuple[str, bool, Any]  # (channel, conditional, label)
FoundEdge = tuple[str, str, bool, Any]  # (source, target, conditional, label)


@dataclasses.dataclass(frozen=True)
class Shape:
    """What to draw: nodes in order and edges ``(source, target, label, conditional)``."""

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str, str | None, bool], ...]


def _to(target: str) -> str:
    return target if target == END else f"branch:to:{target}"


def command_targets(fn: Any) -> tuple[str, ...] | None:
    """Targets declared by a ``-> Command[Literal["a", "b"]]`` return annotation."""
    call = getattr(fn, "__call__", None)  # noqa: B004 - a callable object's method
    if not (inspect.isfunction(fn) or inspect.ismethod(fn) or inspect.ismethod(call)):
        return None
    try:
        hints = get_type_hints(call) or get_type_hints(fn)
    except (NameError, TypeError, AttributeError):
        return None
    hint = hints.get("return")
    if get_origin(hint) is Union:
        hint = next((a for a in get_args(hint) if _is_command(get_origin(a))), hint)
    if _is_command(get_origin(hint)) and get_args(hint):
        first = get_args(hint)[0]
        if get_origin(first) is Literal and get_args(first):
            return tuple(get_args(first))
    return None


def _is_command(origin: Any) -> bool:
    return isinstance(origin, type) and origin.__name__ == "Command"


def _declared(spec: NodeSpec) -> list[tuple[str, Any]] | None:
    """The static route writes a node declares for itself (``destinations``)."""
    ends: Mapping[str, str] | tuple[str, ...] | None = spec.destinations
    if ends is None:
        ends = command_targets(spec.callee.fn)
    if not ends:
        return None
    if isinstance(ends, Mapping):
        return [(_to(target), label) for target, label in ends.items()]
    return [(_to(target), None) for target in ends]


def _static_writers(topology: Topology, node: str) -> list[list[tuple[str, Any]] | None]:
    """Each writer's declared route writes ``(channel, label)``, in LangGraph's order."""
    writers: list[list[tuple[str, Any]] | None] = []
    if node != START:
        writers.append(_declared(topology.nodes[node]))
    for branch in topology.branches.get(node, ()):
        ends = branch.ends
        writers.append([(_to(t), str(key)) for key, t in ends.items()] if ends else None)
    return writers


def _plain_writes(topology: Topology, node: str) -> list[Write]:
    writes: list[Write] = [(_to(t), None) for t in topology.edges.get(node, ())]
    writes += [(topology.joins[j].channel, node) for j in topology.joins_from.get(node, ())]
    return writes


def discover(topology: Topology, limit: int = 250) -> Shape:
    """Dry-run ``topology`` and return the nodes and edges a drawing shows."""
    triggers: dict[str, list[str]] = {n: [_to(n)] for n in topology.nodes}
    for join in topology.joins:
        triggers[join.target].append(join.channel)
    barrier: dict[str, set[str]] = {j.channel: set() for j in topology.joins}
    full = {j.channel: j.sources for j in topology.joins}

    edges: set[FoundEdge] = set()
    static_seen: set[tuple[str, int]] = set()
    sources: dict[str, set[Source]] = {}
    declared: dict[str, set[Source]] = defaultdict(set)
    step_sources: dict[str, set[Source]] = {}
    tasks = [START]
    for _ in range(limit + 1):
        if not tasks:
            break
        conditionals: dict[tuple[str, str], Any] = {}
        writes: dict[str, list[Write]] = {}
        for task in tasks:
            found = _plain_writes(topology, task)
            for i, writer in enumerate(_static_writers(topology, task)):
                if (task, i) in static_seen:
                    continue
                static_seen.add((task, i))
                for channel, label in writer or ():
                    if channel == END:
                        edges.add((task, END, True, label))
                        continue
                    conditionals[(task, channel)] = label
                    declared[task].add((channel, True, label))
                    found.append((channel, None))
            writes[task] = found
        step_sources = {}
        for task in tasks:
            mine = {
                (ch, (task, ch) in conditionals, conditionals.get((task, ch)))
                if v is None
                else (ch, False, None)  # a join write carries its source's name
                for ch, v in writes[task]
            }
            step_sources[task] = mine | declared.get(task, set())
        sources.update(step_sources)
        by_trigger: dict[str, set[tuple[str, bool, Any]]] = defaultdict(set)
        for src, items in sources.items():
            for channel, conditional, label in items:
                by_trigger[channel].add((src, conditional, label))
        # apply the step: joins read by this step's tasks reset, then new writes land
        for task in tasks:
            for channel in triggers.get(task, ()):
                if channel in barrier and barrier[channel] == full[channel]:
                    barrier[channel] = set()
        written: set[str] = set()
        for task in tasks:
            for channel, value in writes[task]:
                if channel in barrier:
                    barrier[channel].add(value)
                else:
                    written.add(channel)
        tasks = [
            n
            for n, chans in triggers.items()
            if any(c in written or (c in barrier and barrier[c] == full[c]) for c in chans)
        ]
        for task in tasks:
            added = False
            for trigger in sorted(triggers[task]):
                for src, conditional, label in sorted(by_trigger[trigger], key=_edge_key):
                    edges.add((src, task, conditional, label))
                    if (trigger, conditional, label) in step_sources.get(src, ()):
                        added = True
                    else:
                        sources[src].discard((trigger, conditional, label))
            if not added:
                for src in step_sources:
                    edges.add((src, task, True, None))
    return _assemble(topology, edges, step_sources)


def _edge_key(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """Sort key for edge tuples whose last field (a label) may be None or a string."""
    *head, label = item
    return (*head, label is not None, "" if label is None else str(label))


def _assemble(topology: Topology, found: set[FoundEdge], last_step: Mapping[str, Any]) -> Shape:
    nodes = [START, *topology.nodes]
    edges: list[tuple[str, str, str | None, bool]] = []
    pairs: set[tuple[str, str]] = set()

    def add(source: str, target: str, label: Any, conditional: bool) -> None:
        if (source, target) in pairs:
            return
        pairs.add((source, target))
        if target == END and END not in nodes:
            nodes.append(END)
        edges.append((source, target, None if label is None else str(label), conditional))

    for source, target, conditional, label in sorted(found, key=_edge_key):
        add(source, target, label if label != target else None, conditional)
    termini = {t for _, t, _, _ in found if t != END} - {s for s, _, _, _ in found}
    if termini:
        for source in sorted(termini):
            add(source, END, None, False)
    elif len(last_step) == 1 and not any(t == END for _, t, _, _ in found):
        for source in sorted(last_step):
            add(source, END, None, True)
    return Shape(tuple(nodes), tuple(edges))
