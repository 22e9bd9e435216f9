"""Rows of the server's tables as the API's JSON shapes, and the SQL filters on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._dialect import Dialect
from ._json import loads

__all__ = [
    "assistant_row",
    "filters",
    "json_fields",
    "run_row",
    "thread_row",
    "where_clause",
]

_ASSISTANT_JSON = ("config", "context", "metadata")


def assistant_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _ASSISTANT_JSON:
        out[key] = loads(row[key], {})
    return out


def thread_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "thread_id": row["thread_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "metadata": loads(row["metadata"], {}),
        "status": row["status"],
        "values": loads(row["state_values"]),
        "interrupts": loads(row["interrupts"], {}),
    }


def run_row(row: Mapping[str, Any]) -> dict[str, Any]:
    kwargs = loads(row["kwargs"], {})
    return {
        "run_id": row["run_id"],
        "thread_id": row["thread_id"],
        "assistant_id": row["assistant_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "status": row["status"],
        "metadata": loads(row["metadata"], {}),
        "kwargs": kwargs,
        "multitask_strategy": row["multitask_strategy"],
    }


def filters(
    dialect: Dialect,
    *,
    graph_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> tuple[list[str], list[Any]]:
    """``WHERE`` conditions (and their parameters) for a graph id and metadata fields."""
    where: list[str] = []
    params: list[Any] = []
    if graph_id:
        where.append("graph_id = ?")
        params.append(graph_id)
    json_fields(dialect, "metadata", metadata, where, params)
    return where, params


def json_fields(
    dialect: Dialect,
    column: str,
    wanted: Mapping[str, Any] | None,
    where: list[str],
    params: list[Any],
) -> None:
    """Add a condition per key of ``wanted``: the JSON in ``column`` has that value there."""
    for key, value in (wanted or {}).items():
        sql, args = dialect.json_match(column, key, value)
        where.append(sql)
        params += args


def where_clause(conditions: Sequence[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""
