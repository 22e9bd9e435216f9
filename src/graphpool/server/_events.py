"""A graph's stream chunks as the API's Server-Sent Events (names and data shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._json import plain

__all__ = ["EventShaper", "library_modes"]

# API stream mode -> the library's stream mode.
_LIBRARY = {
    "values": "values",
    "updates": "updates",
    "custom": "custom",
    "debug": "debug",
    "tasks": "tasks",
    "messages": "messages",
    "messages-tuple": "messages",
}
API_MODES = frozenset(_LIBRARY) | {"events"}  # "events": langchain-core's astream_events


def library_modes(modes: Sequence[str]) -> list[str]:
    """The library modes to run for the API's ``modes``: "values" always, for the
    run's result. (An async run never runs a sync node on the event loop, so no
    mode is needed to keep other runs going: see test_async_client.)"""
    wanted = {"values"} | {_LIBRARY[m] for m in modes if m in _LIBRARY}
    return sorted(wanted)


class EventShaper:
    """Turns ``(namespace, mode, chunk)`` into ``(event, data)`` pairs for one run."""

    def __init__(self, modes: Sequence[str]) -> None:
        self.modes = set(modes)
        self._messages: dict[str, Any] = {}  # id -> the message so far ("messages" mode)

    def shape(self, ns: Sequence[str], mode: str, chunk: Any) -> list[tuple[str, Any]]:
        suffix = "|" + "|".join(ns) if ns else ""
        if mode == "messages":
            return [(name + suffix, data) for name, data in self._message_events(chunk)]
        if mode not in self.modes:
            return []
        return [(mode + suffix, plain(chunk))]

    def _message_events(self, chunk: Any) -> list[tuple[str, Any]]:
        message, metadata = chunk
        out: list[tuple[str, Any]] = []
        if "messages-tuple" in self.modes:
            out.append(("messages", [plain(message), plain(metadata)]))
        if "messages" in self.modes:
            ident = getattr(message, "id", None) or ""
            if ident not in self._messages:
                out.append(("messages/metadata", {ident: {"metadata": plain(metadata)}}))
                so_far = message
            else:
                try:
                    so_far = self._messages[ident] + message
                except TypeError:
                    so_far = message
            self._messages[ident] = so_far
            complete = "Chunk" not in type(message).__name__
            out.append(("messages/complete" if complete else "messages/partial", [plain(so_far)]))
        return out
