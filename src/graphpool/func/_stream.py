"""An entrypoint's chunks: the one-node graph's chunks in LangGraph's entrypoint shapes.

* ``values``: the return value (not the state dict);
* ``updates``: ``{name: return value}`` (task calls' own updates pass as they are);
* ``tasks`` and ``debug``: the node's input and result as the function sees them,
  and ``debug`` steps counted as LangGraph counts an entrypoint's (no START step).

The graph is asked for ``custom`` too: task calls send their chunks through the
run's sink, which a run has only when it streams ``custom`` (``_events``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._calls import check_version, part

__all__ = ["Chunks"]


class Chunks:
    """Turns one run's chunks; ``modes`` is what to ask the graph for."""

    def __init__(
        self, node: str, input: Any, stream_mode: Any, subgraphs: bool, version: Any = "v1"
    ) -> None:
        self.node = node
        self.version = check_version(version)
        self.single = isinstance(stream_mode, str) or stream_mode is None
        wanted = ["updates"] if stream_mode is None else stream_mode
        self.wanted: list[str] = [wanted] if isinstance(wanted, str) else list(wanted)
        modes = list(dict.fromkeys(self.wanted))
        if {"updates", "tasks", "debug"} & set(modes) and "custom" not in modes:
            modes.append("custom")  # task calls' chunks travel on the custom sink
        self.modes = modes
        self.subgraphs = subgraphs

    def out(self, item: Any) -> Iterator[Any]:
        """The caller's chunks for one chunk of the graph's ``(ns, mode, chunk)``."""
        if self.subgraphs:
            ns, mode, chunk = item
        else:
            ns, (mode, chunk) = (), item
        for mode_out, value in self._turn(mode, chunk):
            if self.version == "v2":
                yield part(mode_out, ns, value)
            elif self.subgraphs:
                yield (ns, value) if self.single else (ns, mode_out, value)
            else:
                yield value if self.single else (mode_out, value)

    def _turn(self, mode: str, chunk: Any) -> Iterator[tuple[str, Any]]:
        if mode == "custom":
            if "custom" in self.wanted:
                yield mode, chunk
        elif mode == "values":
            if isinstance(chunk, dict) and "__interrupt__" in chunk:
                yield mode, {"__interrupt__": chunk["__interrupt__"]}
            else:
                yield mode, chunk.get("output") if isinstance(chunk, dict) else chunk
        elif mode == "updates":
            yield mode, self._update(chunk)
        elif mode in ("tasks", "debug"):
            yield mode, self._task_event(mode, chunk)
        elif mode == "messages" and isinstance(chunk, tuple) and len(chunk) == 2:
            message, metadata = chunk
            if isinstance(metadata, dict) and "langgraph_step" in metadata:
                metadata = {**metadata, "langgraph_step": metadata["langgraph_step"] - 1}
            yield mode, (message, metadata)
        else:
            yield mode, chunk

    def _update(self, chunk: Any) -> Any:
        if not isinstance(chunk, dict) or self.node not in chunk:
            return chunk
        written = chunk[self.node]
        value = written.get("output") if isinstance(written, dict) else written
        return {**chunk, self.node: value}

    def _task_event(self, mode: str, chunk: Any) -> Any:
        if mode == "debug":  # graphpool's START step is not LangGraph's
            chunk = {**chunk, "step": chunk.get("step", 1) - 1}
        payload = chunk.get("payload", chunk) if mode == "debug" else chunk
        if not isinstance(payload, dict) or payload.get("name") != self.node:
            return chunk
        payload = dict(payload)
        if "input" in payload:
            given = payload["input"]
            payload["input"] = given.get("input") if isinstance(given, dict) else given
            payload["triggers"] = ("__start__",)
        if "result" in payload and payload.get("error") is None and not payload.get("interrupts"):
            result = payload["result"]
            value = result.get("output") if isinstance(result, dict) else result
            payload["result"] = {"__end__": value}
        return payload if mode == "tasks" else {**chunk, "payload": payload}
