"""Message lists in the state: ``add_messages`` and ``MessagesState``.

The names and behaviour of ``langgraph.graph.message``. Importing this module
imports langchain-core (install it with ``pip install 'graphpool[messages]'``);
``import graphpool`` and ``graphpool.graph`` do not.
"""

from __future__ import annotations

import functools
import uuid
from typing import Annotated, Any

from typing_extensions import TypedDict

from .._lc import require

require("langchain_core.messages", "graphpool.graph.message (add_messages, MessagesState)")

from langchain_core.messages import (  # noqa: E402 - after the check that names the extra
    AnyMessage,
    BaseMessage,
    BaseMessageChunk,
    RemoveMessage,
    convert_to_messages,
    message_chunk_to_message,
)

from ..errors import InvalidConfigError, InvalidMessagesError  # noqa: E402

__all__ = ["REMOVE_ALL_MESSAGES", "MessagesState", "add_messages", "push_message"]

REMOVE_ALL_MESSAGES = "__remove_all__"
"""The id of a ``RemoveMessage`` that clears the list: ``RemoveMessage(id=REMOVE_ALL_MESSAGES)``."""


def add_messages(left: Any = None, right: Any = None, *, format: str | None = None) -> Any:
    """Reducer for a list of messages: append new messages, replace or delete by id.

    Use it as ``messages: Annotated[list[AnyMessage], add_messages]``.

    * Both sides may be a message or a list of them, where a message may also be
      written as a dict (``{"role": "user", "content": "hi"}``), a ``(role,
      content)`` tuple or a string (a human message); chunks become messages.
    * Every message without an id gets a fresh uuid4 string (the message object
      itself is updated).
    * A message of ``right`` whose id is already in the list replaces that
      message in place; any other message is appended.
    * ``RemoveMessage(id=...)`` deletes the message with that id (an error if
      there is none); ``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` drops everything
      before it, so the result is what ``right`` lists after it.

    ``add_messages(format="langchain-openai")`` (both sides omitted) returns a
    reducer that also rewrites the merged messages' content in OpenAI's format.

    Raises:
        InvalidConfigError: only one side given, or an unknown ``format``.
        InvalidMessagesError: a RemoveMessage for an id not in ``left``.
        (Both are ``ValueError``, as LangGraph raises.)
    """
    if left is None and right is None:
        return functools.partial(add_messages, format=format)
    if left is None or right is None:
        given = "left" if left is not None else "right"
        raise InvalidConfigError(
            f"add_messages needs both 'left' and 'right' (or neither, to configure it); "
            f"got only {given!r}."
        )
    existing = _with_ids(_as_messages(left))
    update = _with_ids(_as_messages(right))
    clear_at = _last_remove_all(update)
    if clear_at is not None:
        return update[clear_at + 1 :]
    merged = _merge(existing, update)
    if format == "langchain-openai":
        from langchain_core.messages import convert_to_openai_messages

        return convert_to_messages(convert_to_openai_messages(merged))
    if format:
        raise InvalidConfigError(
            f"add_messages: Unrecognized format={format!r}; the only one is 'langchain-openai'."
        )
    return merged


def _as_messages(value: Any) -> list[BaseMessage]:
    items = value if isinstance(value, list) else [value]
    if all(isinstance(m, BaseMessage) and not isinstance(m, BaseMessageChunk) for m in items):
        return items
    return [
        message_chunk_to_message(m) if isinstance(m, BaseMessageChunk) else m
        for m in convert_to_messages(items)
    ]


def _with_ids(messages: list[BaseMessage]) -> list[BaseMessage]:
    for message in messages:
        if message.id is None:
            message.id = str(uuid.uuid4())
    return messages


def _last_remove_all(messages: list[BaseMessage]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if isinstance(message, RemoveMessage) and message.id == REMOVE_ALL_MESSAGES:
            return i
    return None


def _merge(existing: list[BaseMessage], update: list[BaseMessage]) -> list[BaseMessage]:
    merged = list(existing)
    where = {m.id: i for i, m in enumerate(merged)}
    doomed: set[str | None] = set()
    for message in update:
        i = where.get(message.id)
        if i is None:
            if isinstance(message, RemoveMessage):
                raise InvalidMessagesError(
                    f"Attempting to delete a message with an ID that doesn't exist ('{message.id}')"
                )
            where[message.id] = len(merged)
            merged.append(message)
        elif isinstance(message, RemoveMessage):
            doomed.add(message.id)
        else:
            doomed.discard(message.id)  # re-added after a removal in the same update
            merged[i] = message
    if doomed:
        merged = [m for m in merged if m.id not in doomed]
    return merged


class MessagesState(TypedDict):
    """A state with one key, ``messages``, merged by :func:`add_messages`.

    Subclass it to add keys: ``class State(MessagesState): summary: str``.
    """

    messages: Annotated[list[AnyMessage], add_messages]


def push_message(message: Any, *, state_key: str | None = "messages") -> BaseMessage:
    """Send ``message`` on the ``messages`` stream now, from inside a running node,
    and write it to the state key ``state_key`` (none if None) with the node's update.

    The message goes to the ``messages`` stream of the graph the node runs in
    (under that graph's namespace with ``subgraphs=True``), with the node's
    metadata, and it is not sent again when the node returns it. Anything
    ``convert_to_messages`` takes will do (a dict, a ``(role, text)`` tuple, a
    chunk); the message it makes is returned.

    Raises:
        InvalidMessagesError: the message has no ``id`` (the stream's readers
            tell messages apart by id).
        NotInNodeError: called outside a running node.
    """
    from .._context import current_task

    job: Any = current_task("push_message()")
    pushed = next(iter(convert_to_messages([message])))
    if pushed.id is None:
        raise InvalidMessagesError(
            "Message ID is required: push_message() needs a message with an id "
            "(e.g. AIMessage(content=..., id='...'))."
        )
    from .._stream_messages import push

    push(job.config, pushed)
    writer = getattr(job, "push_writes", None)
    if state_key and writer is not None:
        writer([(state_key, pushed)])
    return pushed
