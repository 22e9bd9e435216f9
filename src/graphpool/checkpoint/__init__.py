"""The state store: checkpointers that save a thread's runs and let them resume.

``compile(checkpointer=saver)`` with one of:

* :class:`InMemorySaver` (alias ``MemorySaver``): in this process only;
* :class:`SqliteSaver` (``graphpool.checkpoint.sqlite``): a SQLite file in WAL
  mode, standard library only; the embedded default for durable runs;
* :class:`PostgresSaver` (``graphpool.checkpoint.postgres``): PostgreSQL through
  psycopg 3 (``pip install 'graphpool[postgres]'``).

Records are encoded by :class:`~graphpool.checkpoint.serde.JsonSerializer`
(JSON with type tags; nothing is ever unpickled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import (
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointTuple,
    PregelTask,
    StateSnapshot,
    TaskResult,
)
from .memory import InMemorySaver, MemorySaver
from .serde import JsonSerializer, Serializer

if TYPE_CHECKING:
    from .postgres import PostgresSaver
    from .sqlite import SqliteSaver

__all__ = [
    "BaseCheckpointSaver",
    "Checkpoint",
    "CheckpointTuple",
    "InMemorySaver",
    "JsonSerializer",
    "MemorySaver",
    "PostgresSaver",
    "PregelTask",
    "Serializer",
    "SqliteSaver",
    "StateSnapshot",
    "TaskResult",
]


def __getattr__(name: str) -> Any:
    if name == "SqliteSaver":
        from .sqlite import SqliteSaver

        return SqliteSaver
    if name == "PostgresSaver":
        from .postgres import PostgresSaver

        return PostgresSaver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
