"""Direct SQL on graphpool's own checkpoint tables, in the server's database: copying
a thread (``threads.copy``) and dropping a rolled-back run's checkpoints."""

from __future__ import annotations

from collections.abc import Sequence

from ._storage import Storage

__all__ = ["copy_checkpoints", "drop_checkpoints"]


def copy_checkpoints(storage: Storage, source: str, target: str) -> None:
    """Copy a thread's checkpoints and task results (graphpool's saver tables, in the
    same file) to another thread id: the rows as they are, under the new id."""
    tables = {t: storage.columns(t) for t in ("graphpool_checkpoints", "graphpool_results")}
    with storage.transaction() as db:
        for table, columns in tables.items():
            kept = [c for c in columns if c not in ("seq", "thread_id")]
            if not columns:
                continue
            listed = ", ".join(kept)
            db.execute(
                f"INSERT INTO {table} (thread_id, {listed}) "
                f"SELECT ?, {listed} FROM {table} WHERE thread_id = ?"
                + (" ORDER BY seq" if "seq" in columns else ""),
                (target, source),
            )


def drop_checkpoints(storage: Storage, thread_id: str, checkpoint_ids: Sequence[str]) -> None:
    """Delete these checkpoints of a thread and their task results (a rolled-back run's)."""
    if not checkpoint_ids:
        return
    marks = ", ".join("?" for _ in checkpoint_ids)
    with storage.transaction() as db:
        for table in ("graphpool_checkpoints", "graphpool_results"):
            db.execute(
                f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_id IN ({marks})",
                (thread_id, *checkpoint_ids),
            )
