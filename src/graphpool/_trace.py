"""Execution traces: every task attempt of a run, where and when it ran.

``graph.invoke(input, config={"trace": "run.json"})`` writes the run's trace as
Chrome trace-event JSON (open it in Perfetto or ``chrome://tracing``) when the
run ends. Pass a :class:`Trace` object instead to read the records from Python
or draw them as a Gantt chart (``save_timeline``, needs ``graphpool[plot]``).

Each worker gets its own lane. Async nodes share their event loop's thread, so
attempts that overlap in time on one worker are spread over extra lanes
(``worker #2``, ...), keeping every lane a plain sequence of bars.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from ._observe import RunObserver, TaskAttempt
from ._timeline import assign_lanes, save_timeline

__all__ = ["Trace", "chrome_trace"]

_PID = 1  # one "process" row group in the viewer: the run(s) of this trace


class Trace(RunObserver):
    """Records the task attempts of the runs it is given to.

    Args:
        path: if given, the Chrome trace JSON of everything recorded so far is
            written there each time a run ends.

    One ``Trace`` may be shared by several runs, also concurrent ones (a batch).
    ``config={"trace": "t.json"}`` makes a new ``Trace`` for each run, so the file
    holds the run that ended last; pass one ``Trace("t.json")`` to keep them all.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = os.fspath(path) if path is not None else None
        self._lock = threading.Lock()
        self._attempts: list[TaskAttempt] = []
        self._steps: list[tuple[str, int, float]] = []

    def __repr__(self) -> str:
        return f"<Trace attempts={len(self._attempts)} path={self.path!r}>"

    # -- recording (RunObserver hooks) -------------------------------------------

    def on_step(self, run_id: str, step: int, nodes: Sequence[str]) -> None:
        with self._lock:
            self._steps.append((run_id, step, time.time()))

    def on_task_end(self, attempt: TaskAttempt) -> None:
        with self._lock:
            self._attempts.append(attempt)

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        if self.path is not None:
            self.write_chrome(self.path)

    # -- reading -----------------------------------------------------------------

    @property
    def attempts(self) -> list[TaskAttempt]:
        """Every recorded task attempt, ordered by start time."""
        with self._lock:
            return sorted(self._attempts, key=lambda a: (a.start, a.end))

    @property
    def steps(self) -> list[tuple[str, int, float]]:
        """``(run_id, step, wall-clock time)`` for each superstep begun."""
        with self._lock:
            return list(self._steps)

    def to_chrome(self) -> dict[str, Any]:
        """The trace as a Chrome trace-event JSON object (see :func:`chrome_trace`)."""
        return chrome_trace(self.attempts, self.steps)

    def write_chrome(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_chrome` to ``path`` as JSON (atomically: readers never see half)."""
        data = json.dumps(self.to_chrome(), indent=1)
        path = os.fspath(path)
        scratch = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(scratch, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(scratch, path)

    def save_timeline(self, path: str | os.PathLike[str], *, title: str | None = None) -> None:
        """Draw a Gantt chart, one lane per worker, as a PNG (needs ``graphpool[plot]``).

        Raises:
            ImportError: matplotlib is not installed.
            ValueError: nothing was recorded.
        """
        save_timeline(self.attempts, path, steps=self.steps, title=title)


def chrome_trace(
    attempts: Sequence[TaskAttempt], steps: Sequence[tuple[str, int, float]] = ()
) -> dict[str, Any]:
    """Task attempts as Chrome trace events: one thread lane per worker.

    Each attempt is a complete (``"ph": "X"``) event named after its node, with
    run id, step, attempt, worker and outcome in ``args``; each step start is a
    global instant event. Times are microseconds from the first event.
    """
    lanes = assign_lanes(attempts)
    times = [a.start for a in attempts] + [t for _, _, t in steps]
    origin = min(times) if times else 0.0
    tids: dict[str, int] = {}
    events: list[dict[str, Any]] = [
        {"ph": "M", "pid": _PID, "name": "process_name", "args": {"name": "graphpool workers"}}
    ]
    for lane, a in lanes:
        if lane not in tids:
            tid = tids[lane] = len(tids) + 1
            meta = {"ph": "M", "pid": _PID, "tid": tid}
            events.append({**meta, "name": "thread_name", "args": {"name": lane}})
            events.append({**meta, "name": "thread_sort_index", "args": {"sort_index": tid}})
        events.append(
            {
                "ph": "X",
                "pid": _PID,
                "tid": tids[lane],
                "name": a.node,
                "cat": a.outcome,
                "ts": round((a.start - origin) * 1e6, 3),
                "dur": round(max(a.end - a.start, 0.0) * 1e6, 3),
                "args": {
                    "run_id": a.run_id,
                    "step": a.step,
                    "attempt": a.attempt,
                    "worker": a.worker,
                    "outcome": a.outcome,
                    **({"error": a.error} if a.error else {}),
                },
            }
        )
    for run_id, step, at in steps:
        events.append(
            {
                "ph": "i",
                "s": "g",
                "pid": _PID,
                "tid": 0,
                "name": f"step {step}",
                "ts": round((at - origin) * 1e6, 3),
                "args": {"run_id": run_id, "step": step},
            }
        )
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"generator": "graphpool", "origin_unix_s": origin},
    }
