"""The store's interface: items, the four operations, and ``BaseStore``.

A store is long-term memory shared across threads and runs: JSON documents
(``value``, a dict) filed under a *namespace*, a tuple of string labels such as
``("users", "u42", "memories")``, and a ``key`` unique within it. Everything a
store does is one of four operations (:class:`GetOp`, :class:`PutOp` (a ``None``
value deletes), :class:`SearchOp`, :class:`ListNamespacesOp`) run by
:meth:`BaseStore.batch`; ``get``/``put``/``search``/``delete``/``list_namespaces``
and their async twins are one-operation batches. The names, fields and
defaults are LangGraph's (``langgraph.store.base``), so code written against it
runs unchanged, and a subclass only implements ``batch`` and ``abatch``.

A namespace is checked where it is given: a label must be a non-empty string
without ``"."`` or NUL (SQL stores join labels with ``"."``), a written
namespace must not be empty nor start with the reserved label ``"langgraph"``.
A bare string is refused rather than read as a tuple of its characters.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NamedTuple, TypedDict, Union

from ..errors import InvalidConfigError, InvalidNamespaceError

__all__ = [
    "NOT_PROVIDED",
    "BaseStore",
    "GetOp",
    "IndexConfig",
    "InvalidNamespaceError",
    "Item",
    "ListNamespacesOp",
    "MatchCondition",
    "NamespaceMatchType",
    "NamespacePath",
    "Op",
    "PutOp",
    "Result",
    "SearchItem",
    "SearchOp",
    "TTLConfig",
]


class _NotProvided:
    """``put(ttl=...)`` left out: the store's ``default_ttl`` applies (``None`` means never)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_PROVIDED"


NOT_PROVIDED = _NotProvided()


def _as_datetime(value: dt.datetime | str) -> dt.datetime:
    # an Item rebuilt from its dict() carries ISO strings
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


class Item:
    """A stored document and where it is filed.

    Attributes:
        value: the document (a dict; its keys can be filtered on in ``search``).
        key: its id, unique within the namespace.
        namespace: the tuple of labels it is filed under.
        created_at: when it was first stored (a timezone-aware UTC datetime).
        updated_at: when it was last written.
    """

    __slots__ = ("created_at", "key", "namespace", "updated_at", "value")

    def __init__(
        self,
        *,
        value: dict[str, Any],
        key: str,
        namespace: tuple[str, ...],
        created_at: dt.datetime | str,
        updated_at: dt.datetime | str,
    ) -> None:
        self.value = value
        self.key = key
        self.namespace = tuple(namespace)
        self.created_at = _as_datetime(created_at)
        self.updated_at = _as_datetime(updated_at)

    def __eq__(self, other: object) -> bool:
        # a SearchItem equals the Item it was found as: the score is not compared
        if not isinstance(other, Item):
            return NotImplemented
        return (self.namespace, self.key, self.value, self.created_at, self.updated_at) == (
            other.namespace,
            other.key,
            other.value,
            other.created_at,
            other.updated_at,
        )

    def __hash__(self) -> int:
        return hash((self.namespace, self.key))

    def dict(self) -> dict[str, Any]:
        """The item as JSON types (timestamps as ISO strings)."""
        return {
            "namespace": list(self.namespace),
            "key": self.key,
            "value": self.value,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.dict().items())
        return f"{type(self).__name__}({fields})"


class SearchItem(Item):
    """An item found by ``search``, with its ``score``: the cosine similarity to
    the query when the search ranked by one, else ``None``."""

    __slots__ = ("score",)

    def __init__(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any],
        created_at: dt.datetime | str,
        updated_at: dt.datetime | str,
        score: float | None = None,
    ) -> None:
        super().__init__(
            value=value,
            key=key,
            namespace=namespace,
            created_at=created_at,
            updated_at=updated_at,
        )
        self.score = score

    def dict(self) -> dict[str, Any]:
        return {**super().dict(), "score": self.score}


class GetOp(NamedTuple):
    """Read the item at ``namespace``/``key`` (``None`` if there is none).
    ``refresh_ttl`` restarts the item's time to live, if it has one."""

    namespace: tuple[str, ...]
    key: str
    refresh_ttl: bool = True


class SearchOp(NamedTuple):
    """Find items whose namespace starts with ``namespace_prefix``.

    ``filter`` keeps items whose value matches: ``{"field": value}`` for
    equality (a dict value matches nested fields, a list matches element-wise),
    or ``{"field": {"$op": value}}`` with ``$eq``, ``$ne``, ``$gt``, ``$gte``,
    ``$lt``, ``$lte``. ``query`` ranks by similarity when the store has a vector
    index, and is ignored otherwise. ``limit`` and ``offset`` page the results.
    """

    namespace_prefix: tuple[str, ...]
    filter: dict[str, Any] | None = None
    limit: int = 10
    offset: int = 0
    query: str | None = None
    refresh_ttl: bool = True


NamespacePath = tuple[str, ...]
"""A namespace pattern for ``list_namespaces``; the label ``"*"`` matches any label."""

NamespaceMatchType = Literal["prefix", "suffix"]


class MatchCondition(NamedTuple):
    """A namespace pattern anchored at the start (``"prefix"``) or the end (``"suffix"``)."""

    match_type: NamespaceMatchType
    path: NamespacePath


class ListNamespacesOp(NamedTuple):
    """List the namespaces that hold items and match every condition, cut to
    ``max_depth`` labels (duplicates removed), sorted, then paged."""

    match_conditions: tuple[MatchCondition, ...] | None = None
    max_depth: int | None = None
    limit: int = 100
    offset: int = 0


class PutOp(NamedTuple):
    """Write ``value`` at ``namespace``/``key``, or delete the item if ``value`` is None.

    ``index`` picks what is embedded for vector search: ``None`` for the store's
    ``fields``, ``False`` for nothing, or a list of paths (``"title"``,
    ``"notes[*].text"``, ``"authors[0].name"``). ``ttl`` is in minutes.
    """

    namespace: tuple[str, ...]
    key: str
    value: Mapping[str, Any] | None
    index: Literal[False] | list[str] | None = None  # type: ignore[assignment] # tuple.index
    ttl: float | None = None


Op = Union[GetOp, SearchOp, PutOp, ListNamespacesOp]  # noqa: UP007 - evaluated at runtime on 3.10
Result = Union[Item, list[Item], list[SearchItem], list[tuple[str, ...]], None]  # noqa: UP007


class TTLConfig(TypedDict, total=False):
    """A store's expiry settings (``ttl=`` when it is made).

    Keys:
        refresh_on_read: whether ``get``/``search`` restart a returned item's
            time to live when they are not told (default True).
        default_ttl: minutes to live for items put without a ``ttl`` (default: never).
        sweep_interval_minutes: how often :meth:`start_ttl_sweeper`'s thread
            deletes expired items (default 5).
    """

    refresh_on_read: bool
    default_ttl: float | None
    sweep_interval_minutes: float | None


class IndexConfig(TypedDict, total=False):
    """A store's vector index (``index=`` when it is made); see :mod:`graphpool.store`.

    Keys:
        dims: length of the vectors ``embed`` returns (required).
        embed: a function ``list[str] -> list[list[float]]`` (sync or async), a
            LangChain ``Embeddings`` object, or a ``"provider:model"`` string
            (needs ``langchain``'s ``init_embeddings``) (required).
        fields: paths of the text to embed in each value; ``["$"]`` (the
            default) embeds the whole value as JSON.
    """

    dims: int
    embed: Any
    fields: list[str] | None


# -- validation ----------------------------------------------------------------------


def check_labels(namespace: Any, where: str) -> tuple[str, ...]:
    """``namespace`` as a tuple of valid labels (it may be empty)."""
    if isinstance(namespace, (str, bytes)) or not isinstance(namespace, (tuple, list)):
        raise InvalidNamespaceError(
            f"{where}: namespace {namespace!r} must be a tuple of strings, like ('users', 'u1')."
        )
    for label in namespace:
        problem = None
        if not isinstance(label, str):
            problem = f"is a {type(label).__name__}, not a str"
        elif not label:
            problem = "is empty"
        elif "." in label:
            problem = "contains a period ('.')"
        elif "\x00" in label:
            problem = "contains a NUL character"
        if problem:
            raise InvalidNamespaceError(
                f"{where}: label {label!r} of namespace {tuple(namespace)!r} {problem}."
            )
    return tuple(namespace)


def check_namespace(namespace: Any, where: str) -> tuple[str, ...]:
    """A namespace an item can be written to: valid labels, not empty, not ``langgraph``'s."""
    namespace = check_labels(namespace, where)
    if not namespace:
        raise InvalidNamespaceError(f"{where}: the namespace is empty; give at least one label.")
    if namespace[0] == "langgraph":
        raise InvalidNamespaceError(
            f"{where}: namespace {namespace!r} starts with the reserved label 'langgraph'."
        )
    return namespace


def check_op(op: Any) -> None:
    """Check the namespaces of an op handed to ``batch`` directly."""
    if isinstance(op, PutOp) and op.value is not None:
        check_namespace(op.namespace, "put")
    elif isinstance(op, (GetOp, PutOp)):
        check_labels(op.namespace, type(op).__name__)
    elif isinstance(op, SearchOp):
        check_labels(op.namespace_prefix, "search")
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            check_labels(condition.path, "list_namespaces")
    else:
        raise InvalidConfigError(
            f"batch: {op!r} is not a store operation (GetOp, PutOp, SearchOp, ListNamespacesOp)."
        )


# -- the interface ---------------------------------------------------------------------


class BaseStore(abc.ABC):
    """A store of JSON documents under namespaces; subclasses implement ``batch``/``abatch``.

    Attributes:
        supports_ttl: whether ``put(ttl=...)`` is honoured (a store that does not
            support it raises ``NotImplementedError`` for a ttl).
        ttl_config: the store's :class:`TTLConfig`, if any.
    """

    supports_ttl: bool = False
    ttl_config: TTLConfig | None = None

    __slots__ = ("__weakref__",)

    @abc.abstractmethod
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops``; one result per op, in order (``None`` for a put).

        Reads see the store as it was before the batch's writes.
        """

    @abc.abstractmethod
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """:meth:`batch`, awaitable."""

    # -- one-operation helpers -----------------------------------------------------

    def _refresh(self, refresh_ttl: bool | None) -> bool:
        if refresh_ttl is not None:
            return refresh_ttl
        return bool((self.ttl_config or {}).get("refresh_on_read", True))

    def _ttl(self, ttl: float | _NotProvided | None) -> float | None:
        if isinstance(ttl, _NotProvided):
            return (self.ttl_config or {}).get("default_ttl")
        if ttl is not None and not self.supports_ttl:
            raise NotImplementedError(
                f"{type(self).__name__} does not support TTL; pass ttl=None or use a store "
                "that does."
            )
        return ttl

    def _get_op(self, namespace: tuple[str, ...], key: str, refresh: bool | None) -> GetOp:
        return GetOp(check_labels(namespace, "get"), str(key), self._refresh(refresh))

    def _search_op(
        self,
        prefix: tuple[str, ...],
        query: str | None,
        filter: dict[str, Any] | None,
        limit: int,
        offset: int,
        refresh: bool | None,
    ) -> SearchOp:
        prefix = check_labels(prefix, "search")
        return SearchOp(prefix, filter, limit, offset, query, self._refresh(refresh))

    def _put_op(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None,
        ttl: float | _NotProvided | None,
    ) -> PutOp:
        namespace = check_namespace(namespace, "put")
        return PutOp(namespace, str(key), value, index, self._ttl(ttl))

    @staticmethod
    def _list_op(
        prefix: NamespacePath | None,
        suffix: NamespacePath | None,
        max_depth: int | None,
        limit: int,
        offset: int,
    ) -> ListNamespacesOp:
        conditions = []
        if prefix:
            conditions.append(MatchCondition("prefix", check_labels(prefix, "list_namespaces")))
        if suffix:
            conditions.append(MatchCondition("suffix", check_labels(suffix, "list_namespaces")))
        return ListNamespacesOp(tuple(conditions), max_depth, limit, offset)

    def get(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """The item at ``namespace``/``key``, or ``None``.

        Raises:
            InvalidNamespaceError: a label of ``namespace`` is invalid.
        """
        result = self.batch([self._get_op(namespace, key, refresh_ttl)])[0]
        return result if isinstance(result, Item) else None

    def search(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """Items under ``namespace_prefix`` (``()`` for all); see :class:`SearchOp`.

        Raises:
            InvalidNamespaceError: a label of the prefix is invalid.
            InvalidConfigError: a bad ``limit``, ``offset`` or ``filter`` operator.
        """
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return self.batch([op])[0]  # type: ignore[return-value]

    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | _NotProvided | None = NOT_PROVIDED,
    ) -> None:
        """Store ``value`` at ``namespace``/``key``, replacing what was there.

        ``ttl``: minutes until the item expires unless read (reads restart it);
        left out, the store's ``default_ttl``; ``None``, never.

        Raises:
            InvalidNamespaceError: the namespace is empty, reserved, or has a bad label.
            SerializationError: the value holds something the store cannot save.
        """
        self.batch([self._put_op(namespace, key, value, index, ttl)])

    def delete(self, namespace: tuple[str, ...], key: str) -> None:
        """Delete the item at ``namespace``/``key`` (nothing happens if there is none)."""
        self.batch([PutOp(check_labels(namespace, "delete"), str(key), None)])

    def list_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """The namespaces holding items, filtered by ``prefix``/``suffix`` patterns
        (``"*"`` matches any label), cut to ``max_depth`` labels, sorted, paged."""
        return self.batch([self._list_op(prefix, suffix, max_depth, limit, offset)])[0]  # type: ignore[return-value]

    async def aget(
        self, namespace: tuple[str, ...], key: str, *, refresh_ttl: bool | None = None
    ) -> Item | None:
        """:meth:`get`, awaitable."""
        result = (await self.abatch([self._get_op(namespace, key, refresh_ttl)]))[0]
        return result if isinstance(result, Item) else None

    async def asearch(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
    ) -> list[SearchItem]:
        """:meth:`search`, awaitable."""
        op = self._search_op(namespace_prefix, query, filter, limit, offset, refresh_ttl)
        return (await self.abatch([op]))[0]  # type: ignore[return-value]

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | _NotProvided | None = NOT_PROVIDED,
    ) -> None:
        """:meth:`put`, awaitable."""
        await self.abatch([self._put_op(namespace, key, value, index, ttl)])

    async def adelete(self, namespace: tuple[str, ...], key: str) -> None:
        """:meth:`delete`, awaitable."""
        await self.abatch([PutOp(check_labels(namespace, "delete"), str(key), None)])

    async def alist_namespaces(
        self,
        *,
        prefix: NamespacePath | None = None,
        suffix: NamespacePath | None = None,
        max_depth: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[tuple[str, ...]]:
        """:meth:`list_namespaces`, awaitable."""
        op = self._list_op(prefix, suffix, max_depth, limit, offset)
        return (await self.abatch([op]))[0]  # type: ignore[return-value]
