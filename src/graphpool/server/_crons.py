"""Crons: their table in the server's database, and the scheduler that fires them.

Each cron keeps its ``next_run_date``; the scheduler (one task of the server) wakes
every second, admits a run for each cron that is due (through the same admission as
``POST /runs``) and moves its ``next_run_date`` on. Moving it on comes first, and
only if nobody moved it yet: of several servers on one database, one fires each run. A cron on a
thread runs there (``multitask_strategy`` as given, ``enqueue`` by default); one
without makes a new thread per run, deleted after unless ``on_run_completed="keep"``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from ._admission import admit_run
from ._cron import next_fire, parse
from ._dialect import upsert
from ._errors import ApiError
from ._json import dumps, loads, now
from ._rows import where_clause
from ._runtime import Runtime
from ._storage import Storage
from ._worker import Worker

__all__ = ["CronTable", "Scheduler"]

log = logging.getLogger("graphpool.server")

_SCHEMA = """CREATE TABLE IF NOT EXISTS gp_crons (
    cron_id TEXT PRIMARY KEY, assistant_id TEXT NOT NULL, thread_id TEXT,
    schedule TEXT NOT NULL, timezone TEXT, end_time TEXT, on_run_completed TEXT,
    payload TEXT NOT NULL, metadata TEXT NOT NULL, enabled INTEGER NOT NULL,
    next_run_date TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"""


def _cron(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "payload": loads(row["payload"], {}),
        "metadata": loads(row["metadata"], {}),
        "enabled": bool(row["enabled"]),
        "user_id": None,
    }


class CronTable:
    """The ``gp_crons`` table of :class:`~._storage.Storage`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        storage.create_tables([_SCHEMA])

    def put(self, cron: Mapping[str, Any]) -> dict[str, Any]:
        row = {k: v for k, v in cron.items() if k != "user_id"}  # no users (yet)
        row.update(payload=dumps(cron["payload"]), metadata=dumps(cron["metadata"]))
        row["enabled"] = int(bool(cron["enabled"]))
        with self.storage.transaction() as db:
            upsert(db, "gp_crons", row, ("cron_id",), replace=True)
        found = self.get(cron["cron_id"])
        assert found is not None
        return found

    def get(self, cron_id: str) -> dict[str, Any] | None:
        rows = self.storage.rows("SELECT * FROM gp_crons WHERE cron_id = ?", (cron_id,))
        return _cron(rows[0]) if rows else None

    def delete(self, cron_id: str) -> bool:
        with self.storage.transaction() as db:
            cursor = db.execute("DELETE FROM gp_crons WHERE cron_id = ?", (cron_id,))
        return cursor.rowcount > 0

    def search(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        limit: int = 10,
        offset: int = 0,
        count: bool = False,
    ) -> Any:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("assistant_id", assistant_id), ("thread_id", thread_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if enabled is not None:
            where.append("enabled = ?")
            params.append(int(enabled))
        if count:
            sql = f"SELECT COUNT(*) AS n FROM gp_crons {where_clause(where)}"
            return int(self.storage.rows(sql, params)[0]["n"])
        rows = self.storage.rows(
            f"SELECT * FROM gp_crons {where_clause(where)} ORDER BY created_at DESC "
            "LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_cron(row) for row in rows]

    def due(self, moment: datetime.datetime) -> list[dict[str, Any]]:
        rows = self.storage.rows(
            "SELECT * FROM gp_crons WHERE enabled = 1 AND next_run_date IS NOT NULL "
            "AND next_run_date <= ? ORDER BY next_run_date",
            (moment.isoformat(),),
        )
        return [_cron(row) for row in rows]

    def advance(self, cron: Mapping[str, Any], upcoming: str | None) -> bool:
        """Move the cron's ``next_run_date`` to ``upcoming``, if it still is what
        ``cron`` says; whether it was (then this server fires the cron's run)."""
        with self.storage.transaction() as db:
            cursor = db.execute(
                "UPDATE gp_crons SET next_run_date = ?, updated_at = ? "
                "WHERE cron_id = ? AND next_run_date = ?",
                (upcoming, now(), cron["cron_id"], cron["next_run_date"]),
            )
        return bool(cursor.rowcount == 1)


def schedule_next(cron: Mapping[str, Any], after: datetime.datetime) -> str | None:
    """The cron's next run after ``after`` (ISO, UTC), or None past its ``end_time``."""
    upcoming = next_fire(parse(cron["schedule"]), after, cron.get("timezone"))
    end = cron.get("end_time")
    if end and upcoming > datetime.datetime.fromisoformat(end):
        return None
    return upcoming.isoformat()


def new_cron(body: Mapping[str, Any], assistant_id: str, thread_id: str | None) -> dict[str, Any]:
    """A cron record from a create request (the run fields kept as its payload)."""
    schedule = body.get("schedule")
    if not isinstance(schedule, str):
        raise ApiError(422, "schedule: required (a cron expression)")
    end_time = body.get("end_time")
    if end_time is not None:
        try:
            end = datetime.datetime.fromisoformat(str(end_time))
        except ValueError:
            raise ApiError(422, "end_time: must be an ISO 8601 time") from None
        end_time = (end if end.tzinfo else end.replace(tzinfo=datetime.timezone.utc)).isoformat()
    stamp = now()
    payload = {k: v for k, v in body.items() if k not in _CRON_FIELDS}
    payload["assistant_id"] = assistant_id
    cron: dict[str, Any] = {
        "cron_id": str(uuid.uuid4()),
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "schedule": schedule,
        "timezone": body.get("timezone"),
        "end_time": end_time,
        "on_run_completed": body.get("on_run_completed"),
        "payload": payload,
        "metadata": body.get("metadata") or {},
        "enabled": body.get("enabled", True) is not False,
        "created_at": stamp,
        "updated_at": stamp,
    }
    cron["next_run_date"] = schedule_next(cron, datetime.datetime.now(datetime.timezone.utc))
    return cron


_CRON_FIELDS = frozenset({"schedule", "timezone", "end_time", "enabled", "on_run_completed"})


class Scheduler:
    """Fires due crons every second; :meth:`tick` does one round (tests call it)."""

    def __init__(self, runtime: Runtime, crons: CronTable, worker: Worker) -> None:
        self.runtime = runtime
        self.crons = crons
        self.worker = worker
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            try:
                self.tick(datetime.datetime.now(datetime.timezone.utc))
            except Exception:  # one bad round must not stop the crons
                log.exception("firing crons failed")
            await asyncio.sleep(1.0)

    def tick(self, moment: datetime.datetime) -> list[str]:
        """Admit a run for each cron due at ``moment``; the run ids."""
        fired = []
        for cron in self.crons.due(moment):
            if not self.crons.advance(cron, schedule_next(cron, moment)):
                continue  # another server fired it
            payload = dict(cron["payload"])
            if cron["thread_id"] is None:
                payload["on_completion"] = cron.get("on_run_completed") or "delete"
            try:
                run = admit_run(self.runtime, self.worker, cron["thread_id"], payload)
                fired.append(run["run_id"])
            except ApiError as exc:  # a busy thread, a full queue: this round is skipped
                log.warning("cron %s did not fire: %s", cron["cron_id"], exc.message)
        return fired
