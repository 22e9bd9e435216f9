"""``stream_mode="tools"``: the life of each tool call made inside a node, as it happens.

Loaded only when a run asks for the mode (it needs langchain-core). A callback
handler in the nodes' config sees LangChain's ``on_tool_*`` callbacks and sends
one chunk per event, a dict with an ``"event"`` key, as LangGraph's ``tools`` mode:

* ``tool-started``: ``tool_call_id``, ``tool_name`` and, when the tool got them,
  its ``input`` arguments;
* ``tool-output-delta``: ``tool_call_id`` and a ``delta`` the tool sent while it
  ran (``ToolRuntime.emit_output_delta``; see :func:`emit_output_delta`);
* ``tool-finished``: ``tool_call_id`` and the tool's ``output``;
* ``tool-error``: ``tool_call_id`` and the error's ``message`` (a tool paused by
  ``interrupt()`` or a drain sends none: it runs again on resume).

``tool_call_id`` is the model's tool call id when the tool was called with one
(a ``ToolCall``), else the tool run's id. Tools tagged ``"nostream"`` are
skipped. Chunks travel through the run's :class:`~graphpool._sink.EventSink`, so
the caller gets them while the node runs; a subgraph's run has its own handler
(see ``_stream_messages.detach``), so its chunks carry its namespace.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ._lc import require

require("langchain_core.callbacks", "stream_mode='tools'")

from langchain_core.callbacks import BaseCallbackHandler  # noqa: E402

from ._sink import EventSink  # noqa: E402
from ._stream_messages import with_handler  # noqa: E402
from .errors import GraphDrained, GraphInterrupt  # noqa: E402

try:  # keeps the handler inline, in the tool's own thread/loop; private in langchain-core
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core
    _StreamingCallbackHandler = object  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from ._config import RunOptions

__all__ = ["attach", "emit_output_delta"]

_NOSTREAM = "nostream"

_delta_writer: contextvars.ContextVar[Callable[[Any], None] | None] = contextvars.ContextVar(
    "graphpool_tool_delta_writer", default=None
)
"""Where the running tool call's partial output goes (set while a streamed tool runs)."""


def emit_output_delta(delta: Any) -> None:
    """Send ``delta`` as a ``tool-output-delta`` event of the tool call running now;
    nothing when the run does not stream ``tools`` (so tools need not check)."""
    writer = _delta_writer.get()
    if writer is not None:
        writer(delta)


def attach(options: RunOptions, sink: EventSink) -> RunOptions:
    """A run's options with a handler in the nodes' config that sends each tool
    call's events to ``sink`` as ``tools`` chunks."""
    config = dict(options.config)
    config["callbacks"] = with_handler(config.get("callbacks"), ToolEventHandler(sink))
    return dataclasses.replace(options, config=config)


class ToolEventHandler(BaseCallbackHandler, _StreamingCallbackHandler):
    """Sends ``tools`` chunks for the tool calls of one run's nodes."""

    run_inline = True  # called where the tool runs, in order, never on an executor
    graphpool_stream = True  # a run's own stream handler (``detach`` drops inherited ones)

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        # tool run id -> (tool_call_id, the token that undoes its delta writer)
        self.calls: dict[UUID, tuple[str, contextvars.Token[Any]]] = {}

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output

    def tap_output_aiter(self, run_id: UUID, output: Any) -> Any:
        return output

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not metadata or "langgraph_node" not in metadata or _NOSTREAM in (tags or ()):
            return
        call_id = kwargs.get("tool_call_id") or str(run_id)

        def delta(value: Any) -> None:
            self.sink.push(
                "tools", {"event": "tool-output-delta", "tool_call_id": call_id, "delta": value}
            )

        self.calls[run_id] = (call_id, _delta_writer.set(delta))
        name = (serialized or {}).get("name") or kwargs.get("name") or ""
        event: dict[str, Any] = {
            "event": "tool-started",
            "tool_call_id": call_id,
            "tool_name": name,
        }
        if inputs is not None:
            event["input"] = inputs
        self.sink.push("tools", event)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        call_id = self._ended(run_id)
        if call_id is not None:
            event = {"event": "tool-finished", "tool_call_id": call_id, "output": output}
            self.sink.push("tools", event)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        call_id = self._ended(run_id)
        if call_id is None or isinstance(error, (GraphInterrupt, GraphDrained)):
            return
        event = {"event": "tool-error", "tool_call_id": call_id, "message": str(error)}
        self.sink.push("tools", event)

    def _ended(self, run_id: UUID) -> str | None:
        """The ended call's id, its delta writer undone; None if it was not streamed."""
        found = self.calls.pop(run_id, None)
        if found is None:
            return None
        call_id, token = found
        try:
            _delta_writer.reset(token)
        except ValueError:  # ended in another context than it started: that one goes too
            pass
        return call_id
