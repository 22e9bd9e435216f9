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

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from ..types import PregelTask, StateSnapshot
    from ._records import Checkpoint, TaskResult
    from .base import BaseCheckpointSaver, CheckpointTuple
    from .memory import InMemorySaver, MemorySaver
    from .postgres import PostgresSaver
    from .serde import JsonSerializer, Serializer
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

# Loaded on first use: the core imports the record classes (``_records``)
# without pulling in the savers, the serializer and their dependencies.
_LAZY = {
    "BaseCheckpointSaver": ".base",
    "CheckpointTuple": ".base",
    "Checkpoint": "._records",
    "TaskResult": "._records",
    "InMemorySaver": ".memory",
    "MemorySaver": ".memory",
    "JsonSerializer": ".serde",
    "Serializer": ".serde",
    "SqliteSaver": ".sqlite",
    "PostgresSaver": ".postgres",
    "PregelTask": "..types",
    "StateSnapshot": "..types",
}


__getattr__ = lazy_names(__name__, _LAZY)
