"""``stream_mode="messages"``: chat model tokens and node-made messages, as they come.

Loaded only when a run asks for the mode (it needs langchain-core). Each chunk is
``(message, metadata)``, as in LangGraph:

* while a chat model called by a node streams, each ``AIMessageChunk``, with
  the model run's metadata (the node's ``langgraph_*`` keys, the model's
  ``ls_*`` keys, and the caller's tags). A callback handler in the node's
  config catches them; because it is a streaming handler, a model called with
  plain ``invoke`` streams under the hood, as LangGraph makes it do;
* when a node returns, each message in its update that was neither in its
  input nor streamed already (same id), with the node's metadata.

Models tagged ``"nostream"`` are skipped. Chunks travel through the run's
:class:`~graphpool._sink.EventSink`, so the caller gets tokens while the node runs.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ._lc import require

require("langchain_core.callbacks", "stream_mode='messages'")

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager  # noqa: E402
from langchain_core.messages import BaseMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, LLMResult  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from ._context import CURRENT  # noqa: E402
from ._sink import EventSink  # noqa: E402
from .types import Command  # noqa: E402

try:  # the marker that makes chat models stream inside invoke(); private in langchain-core
    from langchain_core.tracers._streaming import _StreamingCallbackHandler
except ImportError:  # pragma: no cover - older langchain-core: tokens only from .stream()
    _StreamingCallbackHandler = object  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from ._config import RunOptions
    from ._core.task import Task

__all__ = ["attach", "detach", "push", "with_handler"]

_NOSTREAM = "nostream"


def attach(
    options: RunOptions, *, ns: str = "", root: Any = None, sink: EventSink | None = None
) -> tuple[RunOptions, EventSink, Callable[[Task, Any], None]]:
    """Set a run up to emit ``messages`` chunks: its options with a token handler in
    the nodes' config, the sink the chunks go through, and the node-output hook.

    A subgraph's run (``ns``, its namespace) shares the messages its root has
    seen (``root``, the root's node-output hook), so none goes out twice."""
    sink = EventSink()
    stream = _MessagesStream(options, sink, ns)
    shared = getattr(root, "__self__", None)
    if isinstance(shared, _MessagesStream):
        stream.seen, stream.lock = shared.seen, shared.lock
    config = dict(options.config)
    config["callbacks"] = with_handler(config.get("callbacks"), _TokenHandler(stream))
    stream.options = dataclasses.replace(options, config=config)
    return stream.options, sink, stream.node_returned


def detach(options: RunOptions) -> RunOptions:
    """A subgraph's run options without its root's stream handlers (token and tool
    handlers, inherited with the parent task's config): a subgraph's chat model
    tokens and tool calls go out through its own run (with its namespace, under
    ``subgraphs=True``), or not at all."""
    callbacks = options.config.get("callbacks")
    if callbacks is None:
        return options
    if isinstance(callbacks, BaseCallbackManager):
        kept = callbacks.copy()
        for handler in list(kept.handlers):
            if _streams(handler):
                kept.remove_handler(handler)
    else:
        kept = [h for h in callbacks if not _streams(h)]
    return dataclasses.replace(options, config={**options.config, "callbacks": kept})


def _streams(handler: Any) -> bool:
    return getattr(handler, "graphpool_stream", False) is True


def push(config: Mapping[str, Any], message: BaseMessage) -> None:
    """Send ``message`` on the ``messages`` stream of the run whose node has
    ``config`` (``push_message``), with the node's metadata; nothing if that
    run does not stream messages."""
    callbacks = config.get("callbacks")
    if isinstance(callbacks, BaseCallbackManager):
        handlers = callbacks.handlers
    else:
        handlers = list(callbacks or ())
    for handler in handlers:
        if isinstance(handler, _TokenHandler):
            metadata = dict(config.get("metadata") or {})
            handler.stream.emit(message, metadata, once=False)


def with_handler(callbacks: Any, handler: BaseCallbackHandler) -> Any:
    if callbacks is None:
        return [handler]
    if isinstance(callbacks, BaseCallbackManager):
        manager = callbacks.copy()
        manager.add_handler(handler, inherit=True)
        return manager
    return [*callbacks, handler]


class _MessagesStream:
    """One run's ``messages`` stream: emits each message once (by id)."""

    def __init__(self, options: RunOptions, sink: EventSink, ns: str = "") -> None:
        self.options = options
        self.sink = sink
        self.ns = ns
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def emit(self, message: BaseMessage, metadata: dict[str, Any], *, once: bool) -> None:
        with self.lock:
            if once and message.id in self.seen:
                return
            if message.id is None:
                message.id = str(uuid.uuid4())
            self.seen.add(message.id)
            self.sink.push("messages", (message, metadata))

    def node_returned(self, task: Task, output: Any) -> None:
        """Emit the new messages of a node's return value (runs on the worker)."""
        with self.lock:
            self.seen.update(m.id for m in _messages_in(task.input, top=True) if m.id)
        metadata = self.options.for_node(task.step, task.node, task.triggers)["metadata"]
        if not task.id:  # named as ``_nest.nest_of`` names it
            seed = f"{self.options.run_id}|ns|{task.step}|{task.order}"
            task.id = str(uuid.uuid5(uuid.NAMESPACE_OID, seed))
        if task.node:  # where the node ran, as LangGraph's metadata names it
            own = f"{task.node}:{task.id}"
            metadata["langgraph_checkpoint_ns"] = f"{self.ns}|{own}" if self.ns else own
            if self.ns:
                metadata["checkpoint_ns"] = self.ns
        for message in _messages_in(output, top=True):
            self.emit(message, metadata, once=True)


def _messages_in(value: Any, *, top: bool) -> Iterator[BaseMessage]:
    """Messages in a node's input or output: itself, a sequence, or state values."""
    if isinstance(value, BaseMessage):
        yield value
    elif isinstance(value, Command):
        yield from _messages_in(value.update, top=True)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for item in value:
            if isinstance(item, BaseMessage):
                yield item
            elif top and isinstance(item, Command):
                yield from _messages_in(item.update, top=True)
            elif top and isinstance(item, Mapping):
                yield from _messages_in(item, top=False)
    elif top:
        for field in _state_values(value):
            yield from _messages_in(field, top=False)


def _state_values(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, BaseModel):
        return [getattr(value, key) for key in type(value).model_fields]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    return []


class _TokenHandler(BaseCallbackHandler, _StreamingCallbackHandler):
    """Catches the chunks of chat models that run inside this run's nodes."""

    run_inline = True  # called in the model's own thread/loop, never an executor
    graphpool_stream = True  # a run's own stream handler (``detach`` drops inherited ones)

    def __init__(self, stream: _MessagesStream) -> None:
        self.stream = stream
        self.models: dict[UUID, dict[str, Any]] = {}

    def tap_output_iter(self, run_id: UUID, output: Iterator[Any]) -> Iterator[Any]:
        return output

    def tap_output_aiter(self, run_id: UUID, output: Any) -> Any:
        return output

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not metadata or "langgraph_node" not in metadata or _NOSTREAM in (tags or ()):
            return
        user_tags = [t for t in tags or () if not t.startswith("seq:step")]
        self.models[run_id] = {**metadata, "tags": user_tags} if user_tags else dict(metadata)

    def on_llm_new_token(
        self,
        token: Any,
        *,
        chunk: Any = None,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        metadata = self.models.get(run_id)
        if metadata is not None and isinstance(chunk, ChatGenerationChunk):
            self.stream.emit(chunk.message, metadata, once=False)
            streamed = getattr(CURRENT.get(), "streamed", None)
            if streamed is not None:  # a token is progress for the node's idle limit
                streamed()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        metadata = self.models.pop(run_id, None)
        if metadata is not None and response.generations and response.generations[0]:
            generation = response.generations[0][0]
            if isinstance(generation, ChatGeneration):  # a model that did not stream
                self.stream.emit(generation.message, metadata, once=True)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self.models.pop(run_id, None)
