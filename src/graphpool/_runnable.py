"""What a compiled graph offers as a LangChain ``Runnable``, without importing LangChain.

:class:`RunnableSurface` is mixed into :class:`~graphpool.CompiledStateGraph`. The
methods that need nothing but the graph live here: a default config
(``with_config``), ``copy``, ``get_name``, and the input, output and context
schemas (built with pydantic, as LangGraph builds them). The ones that only
make sense next to langchain-core (``with_retry``, ``with_fallbacks``, ``|``,
``astream_events``, ...) go through :func:`as_runnable`, an adapter that *is* a
langchain-core ``Runnable`` (``graphpool._lc_runnable``, loaded on first use), so
``import graphpool`` never imports langchain-core.
"""

from __future__ import annotations

import contextlib
import copy as _copy
import dataclasses
import types
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

from typing_extensions import is_typeddict

from .errors import InvalidConfigError

if TYPE_CHECKING:
    from ._schema import Schema

__all__ = ["RunnableSurface", "merge_configs"]

Self = TypeVar("Self", bound="RunnableSurface")

_DICT_KEYS = ("metadata", "configurable")


def merge_configs(
    base: Mapping[str, Any] | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    """``extra`` over ``base``, as LangChain merges configs: ``metadata`` and
    ``configurable`` merge key by key, ``tags`` and ``callbacks`` add up, any
    other key given in ``extra`` replaces ``base``'s."""
    out = dict(base or {})
    for key, value in (extra or {}).items():
        if value is None:
            continue
        if key in _DICT_KEYS:
            out[key] = {**(out.get(key) or {}), **value}
        elif key == "tags":
            out[key] = list(dict.fromkeys([*(out.get(key) or ()), *value]))
        elif key == "callbacks" and out.get(key) is not None:
            out[key] = _merge_callbacks(out[key], value)
        else:
            out[key] = value
    return out


def _merge_callbacks(base: Any, extra: Any) -> Any:
    if isinstance(base, list) and isinstance(extra, list):
        return [*base, *extra]
    # a callback manager is a langchain-core object: langchain-core is loaded
    from langchain_core.runnables.config import merge_configs as lc_merge

    return lc_merge({"callbacks": base}, {"callbacks": extra})["callbacks"]


class RunnableSurface:
    """LangChain ``Runnable`` methods of a compiled graph (see the module docstring).

    Attributes:
        config: the default config of every run of this graph (``with_config``),
            under the one each call passes.
    """

    name: str
    builder: Any
    config: Mapping[str, Any] | None = None

    # -- the default config -----------------------------------------------------

    def _with_defaults(self, config: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """A call's config over the graph's default one (``with_config``)."""
        if not self.config:
            return config
        return merge_configs(self.config, config)

    def with_config(self: Self, config: Mapping[str, Any] | None = None, **kwargs: Any) -> Self:
        """A copy of this graph whose runs default to ``config`` (merged with this
        graph's own default; keyword arguments are config keys)."""
        return self.copy({"config": merge_configs(self.config, {**(config or {}), **kwargs})})

    def copy(self: Self, update: Mapping[str, Any] | None = None) -> Self:
        """A shallow copy of the compiled graph, with the attributes in ``update`` set.

        Raises:
            InvalidConfigError: ``update`` names an attribute the graph does not have.
        """
        made = _copy.copy(self)
        for key, value in (update or {}).items():
            if key != "config" and not hasattr(self, key):
                raise InvalidConfigError(
                    f"copy(update={{{key!r}: ...}}): a compiled graph has no attribute {key!r}."
                )
            setattr(made, key, value)
        if update and "pool" in update:
            made.__dict__["_pools"] = None  # chosen again from the new pool when first used
        return made

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        """The graph's name (``compile(name=...)``, "LangGraph" by default), plus ``suffix``."""
        return (name or self.name) + (suffix or "")

    # -- schemas ------------------------------------------------------------------

    def get_input_schema(self, config: Mapping[str, Any] | None = None) -> Any:
        """The pydantic model of the input (the input schema itself if it is one)."""
        return _model(self.builder.input_schema, self.get_name("Input"))

    def get_output_schema(self, config: Mapping[str, Any] | None = None) -> Any:
        """The pydantic model of the output (the output schema itself if it is one)."""
        return _model(self.builder.output_schema, self.get_name("Output"))

    def get_input_jsonschema(self, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON schema of the input, as LangGraph makes it (needs pydantic)."""
        return _json_schema(self.builder.input_schema, self.get_name("Input"))

    def get_output_jsonschema(self, config: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON schema of ``invoke``'s result, as LangGraph makes it (needs pydantic)."""
        return _json_schema(self.builder.output_schema, self.get_name("Output"))

    def get_context_jsonschema(self) -> dict[str, Any] | None:
        """The JSON schema of ``context_schema``, or None if the graph has none.

        Raises:
            InvalidConfigError: the context schema is not a pydantic model, a
                TypedDict or a dataclass (a ``ValueError``).
        """
        schema = self.builder.context_schema
        if schema is None:
            return None
        pydantic = _pydantic()
        if isinstance(schema, type) and issubclass(schema, pydantic.BaseModel):
            model: Any = schema
            return dict(model.model_json_schema())
        if is_typeddict(schema) or dataclasses.is_dataclass(schema):
            return dict(pydantic.TypeAdapter(schema).json_schema())
        raise InvalidConfigError(
            f"Invalid context schema type: {schema!r}. Must be a BaseModel, TypedDict or "
            "dataclass to have a JSON schema."
        )

    # -- as a langchain-core Runnable ---------------------------------------------

    def as_runnable(self) -> Any:
        """A langchain-core ``Runnable`` that runs this graph (needs langchain-core).

        ``graph.with_retry()``, ``graph | other`` and the other composition methods
        build on it; its ``invoke``/``stream`` are the graph's.
        """
        from ._lc_runnable import GraphRunnable

        return GraphRunnable(self)

    def with_retry(self, **kwargs: Any) -> Any:
        """langchain-core's ``Runnable.with_retry`` around this graph (retries whole runs;
        a node's own ``retry_policy`` retries one node)."""
        return self.as_runnable().with_retry(**kwargs)

    def with_fallbacks(self, fallbacks: Sequence[Any], **kwargs: Any) -> Any:
        """langchain-core's ``Runnable.with_fallbacks`` around this graph."""
        return self.as_runnable().with_fallbacks(fallbacks, **kwargs)

    def with_listeners(self, **kwargs: Any) -> Any:
        """langchain-core's ``Runnable.with_listeners`` around this graph."""
        return self.as_runnable().with_listeners(**kwargs)

    def with_types(self, **kwargs: Any) -> Any:
        """langchain-core's ``Runnable.with_types`` around this graph."""
        return self.as_runnable().with_types(**kwargs)

    def pipe(self, *others: Any, name: str | None = None) -> Any:
        """``graph | other | ...`` as a langchain-core ``RunnableSequence``."""
        return self.as_runnable().pipe(*others, name=name)

    def __or__(self, other: Any) -> Any:
        return self.as_runnable() | other

    def __ror__(self, other: Any) -> Any:
        return other | self.as_runnable()

    async def astream_events(
        self, input: Any, config: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        """langchain-core's event stream of a run (``version="v2"`` by default).

        Events: ``on_chain_start``/``on_chain_stream``/``on_chain_end`` of the graph
        (its chunks are the ``stream_mode`` chunks, ``updates`` by default) and of
        each node (named after it, with the ``langgraph_*`` metadata), and the
        events of what the nodes call (chat models, tools, prompts). The
        filters (``include_names``, ``exclude_types``, ...) are langchain-core's;
        other keyword arguments go to :meth:`astream`.
        """
        # closed with this generator (not left to the garbage collector): a caller that
        # stops early gets the run's tasks cancelled before its aclose() returns
        async with contextlib.aclosing(
            self.as_runnable().astream_events(input, config, **kwargs)
        ) as events:
            async for event in events:
                yield event


# -- schemas --------------------------------------------------------------------------


def _pydantic() -> Any:
    try:
        import pydantic
    except ImportError as exc:
        raise ImportError(
            "A graph's JSON schemas are made with pydantic, which is not installed: "
            "pip install pydantic"
        ) from exc
    return pydantic


def _model(schema: Schema, name: str) -> Any:
    """A pydantic model of ``schema``'s keys (the class itself if it is a model)."""
    pydantic = _pydantic()
    cls = schema.cls
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        return cls
    fields = {key: (typ, _default(key, typ, cls)) for key, (typ, _) in schema.fields.items()}
    return pydantic.create_model(name, **fields)


def _json_schema(schema: Schema, name: str) -> dict[str, Any]:
    """LangGraph's JSON schema of a state schema: a pydantic model's own, a
    TypedDict's as pydantic reads it, otherwise that of a model of its keys."""
    pydantic = _pydantic()
    cls = schema.cls
    if is_typeddict(cls):
        return dict(pydantic.TypeAdapter(cls).json_schema())
    return dict(_model(schema, name).model_json_schema())


def _default(key: str, typ: Any, cls: Any) -> Any:
    """A key's default in the model: a dataclass field's default, None where the
    value may be None, else required (``...``)."""
    if dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            if field.name != key:
                continue
            if field.default is not dataclasses.MISSING and field.default is not ...:
                return field.default
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
    return None if _optional(typ) else ...


def _optional(typ: Any) -> bool:
    if get_origin(typ) not in (Union, types.UnionType):
        return False
    return any(a is type(None) or _optional(a) for a in get_args(typ))
