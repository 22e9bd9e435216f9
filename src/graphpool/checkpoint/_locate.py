"""Finding which member of a stored record fails to load, for the error message.

A checkpoint row is one JSON document; when it fails to load, the saver names
the state key (or, for a task result, the node and the key it wrote) whose
value is at fault by splitting the document into members with
:func:`json_members` and decoding them one by one. That runs only after a
failure, and works on documents too deeply nested for ``json.loads``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .serde import Serializer

__all__ = ["culprit", "json_members", "stored_node"]

_STRUCTURE = re.compile(r'["{}\[\],:]')


def _string_end(text: str, start: int) -> int:
    """Index just past the string opening at ``text[start]``, or -1 if it never closes."""
    at = start + 1
    while True:
        quote = text.find('"', at)
        if quote < 0:
            return -1
        slashes = 0
        while text[quote - 1 - slashes] == "\\":
            slashes += 1
        if slashes % 2 == 0:
            return quote + 1
        at = quote + 1


def _key(token: str) -> Any:
    try:
        return json.loads(token)
    except ValueError:
        return token


def json_members(text: str) -> list[tuple[Any, str]]:
    """The top-level members of the JSON object or array ``text``, as
    ``(key or index, raw JSON text)``; ``[]`` if ``text`` is neither.

    Iterative and linear, so it works on documents nested too deeply for
    ``json.loads``; meant for error messages (finding which member is bad), not
    for decoding.
    """
    text = text.lstrip()
    if not text or text[0] not in "{[":
        return []
    is_object = text[0] == "{"
    members: list[tuple[Any, str]] = []
    depth, start, key, expect_key, at = 0, 0, None, is_object, 0

    def close(end: int) -> None:
        raw = text[start:end].strip()
        if raw:
            members.append((key if is_object else len(members), raw))

    while (match := _STRUCTURE.search(text, at)) is not None:
        char, at = match.group(), match.end()
        if char == '"':
            end = _string_end(text, match.start())
            if end < 0:
                break
            if depth == 1 and expect_key:
                key, expect_key = _key(text[match.start() : end]), False
            at = end
        elif char in "{[":
            depth += 1
            if depth == 1:
                start = at
        elif char in "}]":
            depth -= 1
            if depth == 0:
                close(match.start())
                break
        elif depth == 1 and char == ":":
            start = at
        elif depth == 1 and char == ",":
            close(match.start())
            start, expect_key = at, is_object
    return members


def _text(data: bytes | str) -> str:
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


def culprit(serde: Serializer, data: bytes, sections: Mapping[str, str]) -> str:
    """``"state key 'x' in "``: the member of a stored JSON record that fails to load.

    Only for error messages: each member of ``sections`` (the state values, a
    task's writes ``[[key, value], ...]``) is decoded on its own until one fails.
    Empty when the data is not JSON or no single member is at fault.
    """
    for field, raw in json_members(_text(data)):
        label = sections.get(field) if isinstance(field, str) else None
        if label is None:
            continue
        for key, item in json_members(raw):
            if field == "writes":  # [key, value] pairs
                pair = json_members(item)
                if len(pair) != 2:
                    continue
                key, item = _plain(pair[0][1]), pair[1][1]
            try:
                serde.loads(item.encode())
            except Exception:
                return label.format(key) + " in "
    return ""


def _plain(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def stored_node(data: bytes) -> str | None:
    for field, raw in json_members(_text(data)):
        if field == "node":
            node = _plain(raw)
            return node if isinstance(node, str) else None
    return None
