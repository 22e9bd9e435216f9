"""The records a saver stores: :class:`Checkpoint` and :class:`TaskResult`.

Each has ``to_record`` (a dict the serializer encodes) and ``from_record``, which
checks that a decoded record has the fields and shapes ``to_record`` writes, so
a damaged or foreign row fails with a :class:`~graphpool.errors.SerializationError`
naming the field, not with an ``AttributeError`` deep in the scheduler.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import SerializationError
from ..types import Interrupt, Send

__all__ = ["FORMAT", "Checkpoint", "TaskResult", "new_checkpoint_id", "result_of_writes"]

FORMAT = 1  # version of the stored record layout below


_made = [0, 0]  # the last id's time in ms and its sequence number in that ms
_making = threading.Lock()


def new_checkpoint_id() -> str:
    """A fresh checkpoint id: a UUID whose first 48 bits are the time in ms, the
    next 16 a sequence number within the ms, the rest random. Ids one process
    makes sort in the order it made them (as LangGraph's uuid6 ids do), even
    within a millisecond or if the clock steps back."""
    ms = time.time_ns() // 1_000_000
    with _making:
        seq = 0
        if ms <= _made[0]:
            ms, seq = _made[0], _made[1] + 1
            if seq >> 16:
                ms, seq = ms + 1, 0
        _made[:] = [ms, seq]
    rand = uuid.uuid4().int & ((1 << 64) - 1)
    return str(uuid.UUID(int=(ms << 80) | (seq << 64) | rand))


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """A thread's state between two steps: enough to continue the run from here.

    Attributes:
        id: unique id; ``config["configurable"]["checkpoint_id"]`` addresses it.
        step: the superstep it follows (LangGraph's numbering: -1 is the first input,
            0 the step that applied it, then one per superstep).
        values: the state, key by key (keys never written are absent).
        triggered: ``(node, triggers)`` of the nodes the next step runs.
        sends: ``Send`` packets the next step runs, in send order.
        barriers: for each join edge (by its channel name), the sources seen so far.
        start: ``(input,)`` when the caller's input is still to be applied (an input
            checkpoint), else ``()``.
        ran: the nodes whose writes made this checkpoint (``update_state`` infers
            ``as_node`` from it).
    """

    id: str
    step: int
    values: Mapping[str, Any]
    triggered: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sends: tuple[Send, ...] = ()
    barriers: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    start: tuple[Any, ...] = ()
    ran: tuple[str, ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        """The fields LangGraph's checkpoint dict also has, by its key names
        (``"id"``, ``"channel_values"``), for saver code written against it;
        ``default`` for its other keys."""
        if key == "id":
            return self.id
        if key == "channel_values":
            return dict(self.values)
        return default

    def to_record(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "step": self.step,
            "values": dict(self.values),
            "triggered": [[node, list(triggers)] for node, triggers in self.triggered],
            "sends": list(self.sends),
            "barriers": {k: list(v) for k, v in self.barriers.items()},
            "start": list(self.start),
            "ran": list(self.ran),
        }

    @classmethod
    def from_record(cls, record: Any) -> Checkpoint:
        """Rebuild a checkpoint from a decoded record.

        Raises:
            SerializationError: the record is not one :meth:`to_record` wrote
                (the message names the field at fault).
        """
        fields = _record(record, "checkpoint", _CHECKPOINT_FIELDS)
        if fields.get("format") != FORMAT:
            raise SerializationError(
                f"Checkpoint record format {fields.get('format')!r} is not supported "
                f"(this graphpool reads format {FORMAT})."
            )
        barriers = fields["barriers"]
        return cls(
            id=fields["id"],
            step=fields["step"],
            values=fields["values"],
            triggered=_each(fields, "checkpoint", "triggered", _trigger),
            sends=_each(fields, "checkpoint", "sends", _is(Send)),
            barriers=dict(
                zip(barriers, _each(fields, "checkpoint", "barriers", _names), strict=True)
            ),
            start=tuple(fields["start"]),
            ran=_each(fields, "checkpoint", "ran", _is(str)),
        )


@dataclasses.dataclass(frozen=True)
class TaskResult:
    """How one task of a step ended, saved as soon as it did.

    Exactly one outcome holds: it succeeded (``writes`` and ``routes``), it
    paused in ``interrupt()`` (``interrupts``, with the ``answers`` it had already
    consumed), or it failed for good (``error``, the exception's repr).
    """

    task_id: str
    node: str
    writes: tuple[tuple[str, Any], ...] = ()
    routes: tuple[str | Send, ...] = ()
    interrupts: tuple[Interrupt, ...] = ()
    answers: tuple[Any, ...] = ()
    error: str | None = None
    asked: tuple[Interrupt, ...] = ()  # answered interrupts of a task that then succeeded

    @property
    def succeeded(self) -> bool:
        return not self.interrupts and self.error is None

    def to_record(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "node": self.node,
            "writes": [[k, v] for k, v in self.writes],
            "routes": list(self.routes),
            "interrupts": list(self.interrupts),
            "answers": list(self.answers),
            "error": self.error,
            **({"asked": list(self.asked)} if self.asked else {}),
        }

    @classmethod
    def from_record(cls, record: Any) -> TaskResult:
        """Rebuild a task result from a decoded record.

        Raises:
            SerializationError: the record is not one :meth:`to_record` wrote.
        """
        fields = _record(record, "task result", _RESULT_FIELDS)
        node = fields["node"]
        what = f"task result of node {node!r}"
        return cls(
            task_id=fields["task_id"],
            node=node,
            writes=_each(fields, what, "writes", _write, node=node),
            routes=_each(fields, what, "routes", _is((str, Send)), node=node),
            interrupts=_each(fields, what, "interrupts", _is(Interrupt), node=node),
            answers=tuple(fields["answers"]),
            error=fields["error"],
            asked=_each(record, what, "asked", _is(Interrupt), node=node)
            if "asked" in record
            else (),
        )


NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
"""LangGraph's task id for writes of no task (a ``Command(update=...)``'s)."""

UPDATE_NODE = "__input__"
"""The node name a resume's ``Command(update=...)`` writes are saved under
(``_core.records.INPUT``): a resumed run applies them before its step."""


def result_of_writes(
    task_id: str, writes: Sequence[tuple[str, Any]], task_path: str = ""
) -> TaskResult:
    """LangGraph's pending writes of one task as a :class:`TaskResult`.

    Writes to ``__error__``, ``__interrupt__`` and ``__resume__`` become the
    result's error, interrupts and answers; ``branch:to:<node>`` and
    ``__pregel_tasks`` writes become its routes; the rest, its state writes.
    The node is the last part of LangGraph's ``task_path`` (``"~__pregel_pull,
    node"``); writes of its null task id are a ``Command(update=...)``'s.
    """
    state: list[tuple[str, Any]] = []
    routes: list[Any] = []
    interrupts: list[Interrupt] = []
    answers: list[Any] = []
    error: str | None = None
    for channel, value in writes:
        if channel == "__error__":
            error = repr(value) if isinstance(value, BaseException) else str(value)
        elif channel == "__interrupt__":
            interrupts.extend(value if isinstance(value, (list, tuple)) else [value])
        elif channel == "__resume__":
            answers.extend(value if isinstance(value, list) else [value])
        elif channel.startswith("branch:to:"):
            routes.append(channel.removeprefix("branch:to:"))
        elif channel == "__pregel_tasks" and isinstance(value, Send):
            routes.append(value)
        else:
            state.append((channel, value))
    node = task_path.rsplit(",", 1)[-1].strip() if task_path else ""
    if task_id == NULL_TASK_ID:
        node = UPDATE_NODE
    return TaskResult(
        task_id,
        node,
        tuple(state),
        tuple(routes),
        tuple(i for i in interrupts if isinstance(i, Interrupt)),
        tuple(answers),
        error,
    )


_CHECKPOINT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "format": int,
    "id": str,
    "step": int,
    "values": dict,
    "triggered": list,
    "sends": list,
    "barriers": dict,
    "start": list,
    "ran": list,
}
_RESULT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "task_id": str,
    "node": str,
    "writes": list,
    "routes": list,
    "interrupts": list,
    "answers": list,
    "error": (str, type(None)),
}


def _record(record: Any, what: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` checked to be an object with ``spec``'s fields of ``spec``'s types."""
    if not isinstance(record, dict):
        raise SerializationError(
            f"Stored {what} record is a {type(record).__name__}, not an object: the data is "
            "not a graphpool checkpoint, or is damaged."
        )
    for name, kind in spec.items():
        if name not in record:
            if what == "checkpoint" and name == "format":
                continue  # reported as an unsupported format by the caller
            raise SerializationError(f"Stored {what} record has no {name!r} field.")
        value = record[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise SerializationError(
                f"Stored {what} record's {name!r} field is a {type(value).__name__}: "
                f"{str(value)[:80]!r}."
            )
    return record


def _each(
    fields: dict[str, Any],
    what: str,
    name: str,
    convert: Callable[[Any], Any],
    node: str | None = None,
) -> tuple[Any, ...]:
    """``convert`` applied to each item of a list field (each value of an object
    field); an item of the wrong shape is reported naming the field."""
    items = fields[name]
    out = []
    for item in items.values() if isinstance(items, dict) else items:
        try:
            out.append(convert(item))
        except SerializationError as exc:
            raise SerializationError(
                f"Stored {what} record's {name!r} field holds {str(item)[:80]!r}: {exc}.",
                node=node,
            ) from None
    return tuple(out)


def _is(kind: type | tuple[type, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise SerializationError(f"not a {type(value).__name__}")
        return value

    return check


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SerializationError("expected a list of node names")
    return tuple(value)


def _trigger(value: Any) -> tuple[str, tuple[str, ...]]:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        raise SerializationError("expected [node, [trigger, ...]]")
    return value[0], _names(value[1])


def _write(value: Any) -> tuple[str, Any]:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        raise SerializationError("expected [key, value]")
    return value[0], value[1]
