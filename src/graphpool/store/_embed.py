"""Vector search's parts: the index config, text taken from values, embeddings, scores.

What gets embedded is named by paths into the stored value: ``"$"`` is the
whole value as JSON; ``"a.b"`` follows dict keys; ``"a[0]"``, ``"a[-1]"`` and
``"a[*]"`` pick list elements (``*`` alone matches every value of a dict or
list); ``"{a,b.c}"`` takes several fields. A path that finds several texts gives
one vector per text (fields named ``"path.0"``, ``"path.1"``, ...), and an item
scores as its best vector. Strings are embedded as they are, numbers and
booleans as ``str()``, lists and dicts as JSON; a missing field or ``None`` is
skipped.

Vectors are stored normalised to length 1, so a cosine similarity is a dot
product, computed in pure Python (no numpy needed).
"""

from __future__ import annotations

import array
import asyncio
import inspect
import json
import math
import numbers
import operator
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import InvalidConfigError

__all__ = ["Embedder", "IndexSpec", "dot", "pack", "texts_at", "unpack"]

_KNOWN_KEYS = frozenset({"dims", "embed", "fields", "distance_type", "ann_index_config"})


def tokenize(path: str) -> list[str]:
    """``"a.b[*].c"`` -> ``["a", "b", "[*]", "c"]``; brackets and braces stay whole."""
    tokens: list[str] = []
    buf = ""
    i = 0
    while i < len(path):
        char = path[i]
        if char in "[{":
            close = "]" if char == "[" else "}"
            end = path.find(close, i)
            if end < 0:
                raise InvalidConfigError(f"index path {path!r}: {char!r} is never closed.")
            if buf:
                tokens.append(buf)
                buf = ""
            tokens.append(path[i : end + 1])
            i = end + 1
            continue
        if char == ".":
            if buf:
                tokens.append(buf)
            buf = ""
        else:
            buf += char
        i += 1
    if buf:
        tokens.append(buf)
    return tokens


def _as_text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bool, numbers.Number)):
        return [str(value)]
    return [json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)]


def _extract(obj: Any, tokens: Sequence[str]) -> list[str]:
    if not tokens:
        return _as_text(obj)
    token, rest = tokens[0], tokens[1:]
    if token.startswith("["):
        if not isinstance(obj, list):
            return []
        index = token[1:-1].strip()
        if index == "*":
            return [text for item in obj for text in _extract(item, rest)]
        try:
            position = int(index)
        except ValueError:
            return []
        if -len(obj) <= position < len(obj):
            return _extract(obj[position], rest)
        return []
    if token.startswith("{"):
        fields = [f.strip() for f in token[1:-1].split(",") if f.strip()]
        return [text for field in fields for text in _extract(obj, [*tokenize(field), *rest])]
    if token == "*":
        values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, list) else ()
        return [text for item in values for text in _extract(item, rest)]
    if isinstance(obj, dict) and token in obj:
        return _extract(obj[token], rest)
    return []


def texts_at(value: dict[str, Any], paths: Sequence[str]) -> list[tuple[str, str]]:
    """``(field, text)`` pairs to embed for one value."""
    out = []
    for path in paths:
        texts = _as_text(value) if path == "$" else _extract(value, tokenize(path))
        if len(texts) == 1:
            out.append((path, texts[0]))
        else:
            out.extend((f"{path}.{i}", text) for i, text in enumerate(texts))
    return out


# -- vectors -------------------------------------------------------------------------------


def _normalised(vector: Sequence[float], dims: int, where: str) -> list[float]:
    if len(vector) != dims:
        raise InvalidConfigError(
            f"index: {where} returned a vector of {len(vector)} numbers; index['dims'] is {dims}."
        )
    norm = math.sqrt(sum(x * x for x in vector))
    return [float(x) / norm for x in vector] if norm else [0.0] * dims


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """The cosine similarity of two unit vectors."""
    return float(sum(map(operator.mul, a, b)))


def pack(vector: Sequence[float]) -> bytes:
    """A vector as little-endian float32 bytes, for the SQL stores."""
    packed = array.array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes) -> array.array[float]:
    """The vector :func:`pack` wrote."""
    vector = array.array("f")
    vector.frombytes(bytes(data))
    if sys.byteorder == "big":
        vector.byteswap()
    return vector


# -- embedding functions ------------------------------------------------------------------------


def _is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    )


def _from_string(name: str) -> Any:
    try:
        from langchain.embeddings import init_embeddings  # type: ignore[import-not-found]
    except ImportError:
        raise InvalidConfigError(
            f"index['embed']={name!r}: a provider string needs langchain's init_embeddings "
            "(pip install langchain and the provider's package); or pass a function "
            "list[str] -> list[list[float]] or an Embeddings object."
        ) from None
    return init_embeddings(name)


class Embedder:
    """One way to call any ``embed`` LangGraph accepts, sync or async, checking
    what comes back (one vector per text, ``dims`` long) and normalising it."""

    def __init__(self, embed: Any, dims: int) -> None:
        if isinstance(embed, str):
            embed = _from_string(embed)
        self.dims = dims
        self._model = embed if hasattr(embed, "embed_documents") else None
        if self._model is None and not callable(embed):
            raise InvalidConfigError(
                f"index['embed']={embed!r}: expected a function list[str] -> list[list[float]], "
                "an async one, or a LangChain Embeddings object."
            )
        self._fn = embed
        self._async = self._model is None and _is_async(embed)

    def _check(self, vectors: Any, count: int) -> list[list[float]]:
        if not isinstance(vectors, Sequence) or len(vectors) != count:
            got = len(vectors) if isinstance(vectors, Sequence) else type(vectors).__name__
            raise InvalidConfigError(
                f"index: embed returned {got} vectors for {count} texts; expected one per text."
            )
        return [_normalised(v, self.dims, "embed") for v in vectors]

    def documents(self, texts: list[str]) -> list[list[float]]:
        if self._model is not None:
            return self._check(self._model.embed_documents(texts), len(texts))
        if self._async:
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return self._check(asyncio.run(self._fn(texts)), len(texts))
            raise InvalidConfigError(
                "index['embed'] is an async function and an event loop is running in this "
                "thread: use the store's async methods (aput, asearch, abatch)."
            )
        return self._check(self._fn(texts), len(texts))

    async def adocuments(self, texts: list[str]) -> list[list[float]]:
        if self._model is not None:
            if hasattr(self._model, "aembed_documents"):
                vectors = await self._model.aembed_documents(texts)
            else:
                vectors = await asyncio.to_thread(self._model.embed_documents, texts)
        elif self._async:
            vectors = await self._fn(texts)
        else:
            vectors = await asyncio.to_thread(self._fn, texts)
        return self._check(vectors, len(texts))

    def query(self, text: str) -> list[float]:
        if self._model is not None:
            return _normalised(self._model.embed_query(text), self.dims, "embed_query")
        return self.documents([text])[0]

    async def aquery(self, text: str) -> list[float]:
        if self._model is not None:
            if hasattr(self._model, "aembed_query"):
                vector = await self._model.aembed_query(text)
            else:
                vector = await asyncio.to_thread(self._model.embed_query, text)
            return _normalised(vector, self.dims, "embed_query")
        return (await self.adocuments([text]))[0]


class IndexSpec:
    """A checked ``index=`` config: the embedder and the default paths."""

    def __init__(self, config: Any, owner: str) -> None:
        where = f"{owner}(index=...)"
        if not isinstance(config, dict):
            raise InvalidConfigError(f"{where}: expected a dict with 'dims' and 'embed'.")
        unknown = sorted(set(config) - _KNOWN_KEYS)
        if unknown:
            raise InvalidConfigError(
                f"{where}: unknown keys {unknown}; known: {sorted(_KNOWN_KEYS)}."
            )
        dims = config.get("dims")
        if not isinstance(dims, numbers.Integral) or isinstance(dims, bool) or dims < 1:
            raise InvalidConfigError(f"{where}: 'dims'={dims!r} must be a whole number >= 1.")
        if config.get("embed") is None:
            raise InvalidConfigError(f"{where}: 'embed' is required.")
        distance = config.get("distance_type", "cosine")
        if distance != "cosine":
            raise InvalidConfigError(
                f"{where}: distance_type={distance!r}; only 'cosine' is supported."
            )
        fields = config.get("fields") or ["$"]
        if isinstance(fields, str) or not all(isinstance(f, str) for f in fields):
            raise InvalidConfigError(f"{where}: 'fields'={fields!r} must be a list of paths.")
        for path in fields:
            tokenize(path)  # an unclosed bracket fails here, not at the first put
        self.dims = int(dims)
        self.fields = list(fields)
        self.embedder = Embedder(config["embed"], self.dims)

    def paths(self, index: Any) -> list[str]:
        """The paths a put embeds: its own ``index`` list, or the store's ``fields``."""
        if index is None:
            return self.fields
        if isinstance(index, str) or not all(isinstance(p, str) for p in index):
            raise InvalidConfigError(
                f"put: index={index!r} must be None, False or a list of paths."
            )
        return list(index)
