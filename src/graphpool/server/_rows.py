"""Rows of the server's tables as the API's JSON shapes, and the SQL filters on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._json import dumps, loads

__all__ = [
    "assistant_row",
    "filters",
    "insert",
    "json_path",
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


def json_path(key: str) -> str:
    return '$."' + key.replace('"', "") + '"'


def filters(
    *, graph_id: str | None = None, metadata: Mapping[str, Any] | None = None
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if graph_id:
        where.append("graph_id = ?")
        params.append(graph_id)
    for key, value in (metadata or {}).items():
        where.append("json_extract(metadata, ?) = json_extract(?, '$')")
        params += [json_path(key), dumps(value)]
    return where, params


def where_clause(conditions: Sequence[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


def insert(db: Any, verb: str, table: str, row: Mapping[str, Any]) -> None:
    """``{verb} INTO table (columns) VALUES (...)`` for one row given as a dict
    (``verb``: ``"INSERT"``, ``"INSERT OR REPLACE"``, ``"INSERT OR IGNORE"``)."""
    marks = ", ".join("?" for _ in row)
    db.execute(f"{verb} INTO {table} ({', '.join(row)}) VALUES ({marks})", tuple(row.values()))
