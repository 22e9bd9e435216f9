"""What one ``invoke``/``stream`` call asks for, checked where it is given, and
what the caller gets back from the chunks of the run (the compiled graph's
call surface, LangGraph's arguments)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from ._constants import INTERRUPT
from ._nest import Nested
from .errors import InvalidConfigError

__all__ = [
    "Call",
    "Config",
    "batch_limit",
    "check_version",
    "configs_for",
    "part",
    "pick",
    "result_of",
]

_MODES = frozenset(
    {"values", "updates", "tasks", "debug", "messages", "custom", "checkpoints", "tools"}
)
_VERSIONS = ("v1", "v2")
Config = Mapping[str, Any] | None


_DURABILITY = ("sync", "async", "exit")


@dataclasses.dataclass(frozen=True)
class Call:
    """What one ``invoke``/``stream`` call asked for, checked where it was given.

    Attributes:
        modes: the stream modes the run makes (asked for, and printed).
        shown: the modes the caller gets back.
        tagged: chunks are ``(mode, chunk)`` (a list of modes was given).
        namespaced: chunks are ``(namespace, ...)`` (``subgraphs=True``).
        printed: modes whose chunks are printed (``print_mode``, ``debug=True``).
        interrupt_before / interrupt_after: breakpoints for this run (None: the graph's).
        durability: when checkpoints are written: ``sync`` (before the next
            step; also what ``async`` does here), or ``exit`` (when the run ends).
        control: the caller's :class:`~graphpool.runtime.RunControl` (``control=``),
            which may ask the run to stop between steps.
        version: the chunks' shape: ``"v1"`` (tuples, as above) or ``"v2"`` (one
            ``{"type", "ns", "data"}`` dict per chunk, :data:`~graphpool.types.StreamPart`).
        mapper: under ``"v2"``, what turns a ``values`` dict into the graph's output
            type (a dataclass or pydantic state), or None.
        state_mapper: under ``"v2"``, the same for the state in ``checkpoints`` and
            ``debug`` checkpoint chunks (the graph's state type).
    """

    modes: tuple[str, ...]
    shown: frozenset[str]
    tagged: bool = False
    namespaced: bool = False
    printed: frozenset[str] = frozenset()
    interrupt_before: Collection[str] | None = None
    interrupt_after: Collection[str] | None = None
    durability: str = "sync"
    control: Any = None
    version: str = "v1"
    mapper: Callable[[Any], Any] | None = None
    state_mapper: Callable[[Any], Any] | None = None

    @classmethod
    def of(
        cls,
        stream_mode: str | Sequence[str],
        *,
        print_mode: str | Sequence[str] = (),
        subgraphs: bool = False,
        debug: bool | None = None,
        interrupt_before: Collection[str] | None = None,
        interrupt_after: Collection[str] | None = None,
        durability: str | None = None,
        version: str = "v1",
        unknown: Mapping[str, Any] | None = None,
        mapper: Callable[[Any], Any] | None = None,
        state_mapper: Callable[[Any], Any] | None = None,
    ) -> Call:
        """Check a call's options; raises InvalidConfigError naming a bad one."""
        unknown = dict(unknown or {})
        version = check_version(version)
        control = unknown.pop("control", None)
        if control is not None:
            from .runtime import RunControl

            if not isinstance(control, RunControl):
                raise InvalidConfigError(f"control={control!r}: give a RunControl, or None.")
        if unknown:
            raise InvalidConfigError(
                f"Unknown argument(s) {sorted(unknown)}: graphpool's invoke/stream take "
                "config, context, stream_mode, print_mode, interrupt_before, interrupt_after, "
                "durability, subgraphs, debug, control and version."
            )
        shown = check_modes("stream_mode", stream_mode)
        printed = check_modes("print_mode", print_mode)
        if debug:
            printed = (*printed, "debug")
        if durability is not None and durability not in _DURABILITY:
            raise InvalidConfigError(
                f"durability={durability!r}: choose one of {', '.join(map(repr, _DURABILITY))}."
            )
        return cls(
            modes=tuple(dict.fromkeys((*shown, *printed))),
            shown=frozenset(shown),
            tagged=not isinstance(stream_mode, str),
            namespaced=bool(subgraphs),
            printed=frozenset(printed),
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            durability=durability or "sync",
            control=control,
            version=version,
            mapper=mapper if version == "v2" else None,
            state_mapper=state_mapper if version == "v2" else None,
        )

    def out(self, mode: str, chunk: Any) -> Iterator[Any]:
        """What the caller gets for one chunk (nothing for a mode only printed)."""
        if mode in self.printed:
            print(f"[{mode}] {chunk!r}")
        if mode not in self.shown:
            return
        namespace: tuple[str, ...] = ()
        if type(chunk) is Nested:  # made by a subgraph's run
            if not self.namespaced:
                return
            namespace, chunk = chunk
        if self.version == "v2":
            mapper = self.mapper if mode == "values" else self.state_mapper
            yield part(mode, namespace, chunk, mapper)
            return
        item = (mode, chunk) if self.tagged else chunk
        if self.namespaced:
            item = (namespace, *item) if self.tagged else (namespace, item)
        yield item


def part(
    mode: str, namespace: tuple[str, ...], chunk: Any, mapper: Callable[[Any], Any] | None = None
) -> dict[str, Any]:
    """One ``version="v2"`` stream part: ``{"type", "ns", "data"}``, and for
    ``values`` the run's interrupts apart (``"interrupts"``). ``mapper`` turns the
    state (of ``values``, and of the checkpoints in ``checkpoints`` and ``debug``)
    into the graph's type."""
    if mode in ("checkpoints", "debug") and mapper is not None:
        chunk = _checkpoint_in_type(chunk, mapper)
    if mode != "values":
        return {"type": mode, "ns": namespace, "data": chunk}
    interrupts: tuple[Any, ...] = ()
    if isinstance(chunk, dict):
        if INTERRUPT in chunk:
            chunk = dict(chunk)
            interrupts = tuple(chunk.pop(INTERRUPT))
        if mapper is not None:
            chunk = mapper(chunk)
    return {"type": mode, "ns": namespace, "data": chunk, "interrupts": interrupts}


def _checkpoint_in_type(chunk: Any, mapper: Callable[[Any], Any]) -> Any:
    """A ``checkpoints`` chunk (or ``debug`` checkpoint event) with its ``values`` in
    the state's type; not the input's checkpoint (its state is not all there yet)."""
    if not isinstance(chunk, dict):
        return chunk
    if chunk.get("type") == "checkpoint" and isinstance(chunk.get("payload"), dict):
        return {**chunk, "payload": _checkpoint_in_type(chunk["payload"], mapper)}
    values = chunk.get("values")
    if isinstance(values, dict) and "__start__" not in chunk.get("next", ()):
        return {**chunk, "values": mapper(values)}
    return chunk


def check_version(version: Any) -> str:
    """``version=``, checked: ``"v1"`` or ``"v2"``; raises InvalidConfigError otherwise."""
    if version not in _VERSIONS:
        raise InvalidConfigError(
            f"version={version!r}: choose one of {', '.join(map(repr, _VERSIONS))}."
        )
    return str(version)


def check_modes(name: str, value: str | Sequence[str]) -> tuple[str, ...]:
    modes = (value,) if isinstance(value, str) else tuple(value)
    unknown = [m for m in modes if m not in _MODES]
    if unknown:
        raise InvalidConfigError(
            f"Unknown {name} {unknown[0]!r}; graphpool supports {sorted(_MODES)}."
        )
    return modes


def pick(given: Collection[str] | None, default: Collection[str]) -> Collection[str]:
    return default if given is None else given


def result_of(call: Call, stream_mode: str, events: Iterable[tuple[str, Any]]) -> Any:
    """What ``invoke`` returns: the final state (``values``), or the list of the
    chunks of the one mode it was asked for; printed modes are printed."""
    chunks = []
    for mode, chunk in events:
        for item in call.out(mode, chunk):
            chunks.append(item)
    if stream_mode != "values":
        return chunks
    if call.version == "v2":
        from .types import GraphOutput

        own = [p for p in chunks if p["type"] == "values" and p["ns"] == ()]
        if not own:
            return GraphOutput(None)
        interrupts = [i for p in own for i in p["interrupts"]]
        return GraphOutput(own[-1]["data"], tuple(interrupts))
    if call.namespaced:  # invoke(subgraphs=True): the root's state all the same
        chunks = [chunk for namespace, chunk in chunks if namespace == ()]
    return _final(chunks)


def _final(chunks: Any) -> Any:
    """What ``invoke`` returns: the last ``values`` chunk, plus the run's interrupts."""
    latest = None
    interrupts: list[Any] = []
    for chunk in chunks:
        if INTERRUPT in chunk:
            interrupts.extend(chunk[INTERRUPT])
        latest = chunk
    if interrupts:
        return {**(latest or {}), INTERRUPT: interrupts}
    return latest


def configs_for(config: Config | Sequence[Config], n: int) -> list[Config]:
    if config is None or isinstance(config, Mapping):
        return [config] * n
    configs = list(config)
    if len(configs) != n:
        raise InvalidConfigError(f"batch() got {len(configs)} configs for {n} inputs.")
    return configs


def batch_limit(configs: Sequence[Config]) -> int:
    """How many runs of a batch go at once: the first config's ``max_concurrency``."""
    first = configs[0] if configs else None
    limit = (first or {}).get("max_concurrency")
    return limit if isinstance(limit, int) and limit > 0 else 32
