"""Which items a search keeps and which namespaces a listing shows, in plain Python.

Every store filters with these functions, after its backend has narrowed the
rows by namespace prefix, so a filter means the same in memory, in SQLite and
in PostgreSQL (the SQL backends may also push a cheap necessary condition down,
see :func:`pushdown`). Arguments are checked once, before any row is read.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from ..errors import InvalidConfigError
from .base import ListNamespacesOp, MatchCondition, SearchOp

__all__ = ["check_list", "check_search", "list_namespaces", "matches", "pushdown"]

_ORDERING = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
OPERATORS = frozenset({"$eq", "$ne", *_ORDERING})


def _is_operator_dict(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value)


def _check_page(limit: Any, offset: Any, where: str) -> None:
    for name, value in (("limit", limit), ("offset", offset)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise InvalidConfigError(f"{where}: {name}={value!r} must be a whole number >= 0.")


def _check_filter(filter: Any, where: str) -> None:
    if not isinstance(filter, dict):
        raise InvalidConfigError(f"{where}: filter={filter!r} must be a dict of field: value.")
    for key, value in filter.items():
        if not isinstance(key, str):
            raise InvalidConfigError(f"{where}: filter field {key!r} must be a str.")
        if _is_operator_dict(value):
            unknown = sorted(set(value) - OPERATORS)
            if unknown:
                raise InvalidConfigError(
                    f"{where}: filter on {key!r} uses unknown operators {unknown}; "
                    f"use {sorted(OPERATORS)}."
                )
        elif isinstance(value, dict):
            _check_filter(value, where)


def check_search(op: SearchOp) -> None:
    """Refuse a bad page, filter or query before the search runs."""
    _check_page(op.limit, op.offset, "search")
    if op.filter is not None:
        _check_filter(op.filter, "search")
    if op.query is not None and not isinstance(op.query, str):
        raise InvalidConfigError(f"search: query={op.query!r} must be a str.")


def check_list(op: ListNamespacesOp) -> None:
    """Refuse a bad page, depth or match type before the listing runs."""
    _check_page(op.limit, op.offset, "list_namespaces")
    depth = op.max_depth
    if depth is not None and (
        not isinstance(depth, numbers.Integral) or isinstance(depth, bool) or depth < 1
    ):
        raise InvalidConfigError(f"list_namespaces: max_depth={depth!r} must be None or >= 1.")
    for condition in op.match_conditions or ():
        if condition.match_type not in ("prefix", "suffix"):
            raise InvalidConfigError(
                f"list_namespaces: match_type={condition.match_type!r} is unknown; "
                "use 'prefix' or 'suffix'."
            )


# -- filters -----------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _ordered(left: Any, operator: str, right: Any) -> bool:
    """``left <op> right`` for two numbers or two strings; anything else does not match."""
    if (_number(left) and _number(right)) or (isinstance(left, str) and isinstance(right, str)):
        return bool(_ORDERING[operator](left, right))
    return False


def _value_matches(actual: Any, wanted: Any) -> bool:
    if _is_operator_dict(wanted):
        for operator, operand in wanted.items():
            if operator == "$eq":
                ok = bool(actual == operand)
            elif operator == "$ne":
                ok = bool(actual != operand)
            else:
                ok = _ordered(actual, operator, operand)
            if not ok:
                return False
        return True
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            _value_matches(actual.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(actual, (list, tuple))
            and len(actual) == len(wanted)
            and all(_value_matches(a, w) for a, w in zip(actual, wanted, strict=False))
        )
    return bool(actual == wanted)


def matches(value: dict[str, Any], filter: dict[str, Any] | None) -> bool:
    """Whether a stored value passes ``filter`` (see :class:`~graphpool.store.base.SearchOp`)."""
    if not filter:
        return True
    return all(_value_matches(value.get(key), wanted) for key, wanted in filter.items())


def pushdown(filter: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The ``(field, text)`` pairs of a filter that demand a top-level string field
    equal to a string: a SQL backend may keep only rows where that holds (a
    necessary condition; :func:`matches` still decides)."""
    out = []
    for key, wanted in (filter or {}).items():
        if _is_operator_dict(wanted) and set(wanted) == {"$eq"}:
            wanted = wanted["$eq"]
        if type(wanted) is str:
            out.append((key, wanted))
    return out


# -- namespaces ----------------------------------------------------------------------------


def _condition_holds(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    return all(want == "*" or want == got for want, got in zip(path, part, strict=False))


def literal_prefix(op: ListNamespacesOp) -> tuple[str, ...]:
    """The labels every listed namespace starts with (before any wildcard), for a
    backend to narrow its scan."""
    for condition in op.match_conditions or ():
        if condition.match_type == "prefix":
            labels = []
            for label in condition.path:
                if label == "*":
                    break
                labels.append(label)
            return tuple(labels)
    return ()


def list_namespaces(
    namespaces: Iterable[tuple[str, ...]], op: ListNamespacesOp
) -> list[tuple[str, ...]]:
    """Apply a listing's conditions, depth, order and page to the namespaces in use."""
    conditions = [c for c in op.match_conditions or () if c.path]
    kept = {
        ns[: op.max_depth] if op.max_depth is not None else ns
        for ns in namespaces
        if all(_condition_holds(c, ns) for c in conditions)
    }
    return sorted(kept)[op.offset : op.offset + op.limit]
