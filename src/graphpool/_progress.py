"""Progress of a run for people: a live table on a terminal, plain lines elsewhere.

Both are :class:`~graphpool.RunObserver` objects fed by the run's hooks. The live
display (``graphpool[cli]``, rich imported only when it is used) shows one row per
superstep: tasks running, done, retried and failed, and the nodes the step runs
(every node that started a task in it, ``name xN`` for N tasks of one node;
the column means the same during the step and after it).
The plain one writes a line per event, for logs and pipes.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

from ._observe import RunObserver, TaskAttempt

__all__ = ["LiveProgress", "PlainProgress", "make_progress"]


class _Step:
    __slots__ = ("done", "failed", "retried", "running", "seen")

    def __init__(self) -> None:
        self.running: Counter[str] = Counter()
        self.seen: Counter[str] = Counter()  # tasks per node, in the order they started
        self.done = self.retried = self.failed = 0

    def nodes(self) -> str:
        """The step's nodes: each that started a task, ``xN`` for N tasks of it."""
        return ", ".join(f"{n} x{k}" if k > 1 else n for n, k in self.seen.items())


class _Tally(RunObserver):
    """Counts per step, shared by both displays (hooks may come from several threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[int, _Step] = {}
        self.started = time.monotonic()
        self.ended: float | None = None
        self.run_id = ""
        self.error: BaseException | None = None

    def _step(self, step: int) -> _Step:
        return self.steps.setdefault(step, _Step())

    def on_run_start(self, run_id: str) -> None:
        with self.lock:
            self.run_id, self.started = run_id, time.monotonic()

    def on_task_start(self, run_id: str, step: int, node: str, attempt: int) -> None:
        with self.lock:
            s = self._step(step)
            s.running[node] += 1
            if attempt == 1:  # a retry is the same task again
                s.seen[node] += 1

    def on_task_end(self, attempt: TaskAttempt) -> None:
        with self.lock:
            s = self._step(attempt.step)
            s.running[attempt.node] -= 1
            s.running += Counter()  # drop zero counts
            if attempt.outcome == "succeeded":
                s.done += 1
            elif attempt.outcome == "retried":
                s.retried += 1
            else:
                s.failed += 1

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        with self.lock:
            self.ended, self.error = time.monotonic(), error

    def summary(self) -> str:
        """One line: outcome, tasks, steps, retries, failures and wall time."""
        elapsed = (self.ended or time.monotonic()) - self.started
        done = sum(s.done for s in self.steps.values())
        retried = sum(s.retried for s in self.steps.values())
        failed = sum(s.failed for s in self.steps.values())
        state = "finished" if self.error is None else f"failed ({type(self.error).__name__})"
        return (
            f"run {self.run_id} {state} in {elapsed:.2f}s: {done} tasks done in "
            f"{len(self.steps)} steps, {retried} retried, {failed} failed"
        )


class PlainProgress(_Tally):
    """A line per run event on ``stream`` (stderr by default, for logs and pipes)."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream

    def _say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:7.3f}s] {text}", file=self.stream, flush=True)

    def on_run_start(self, run_id: str) -> None:
        super().on_run_start(run_id)
        self._say(f"run {run_id} started")

    def on_step(self, run_id: str, step: int, nodes: Sequence[str]) -> None:
        self._say(f"step {step}: {', '.join(nodes)}")

    def on_task_start(self, run_id: str, step: int, node: str, attempt: int) -> None:
        super().on_task_start(run_id, step, node, attempt)
        again = f" (attempt {attempt})" if attempt > 1 else ""
        self._say(f"step {step}  {node}: running{again}")

    def on_task_end(self, attempt: TaskAttempt) -> None:
        super().on_task_end(attempt)
        a = attempt
        what = {"succeeded": "done", "retried": "failed, will retry", "failed": "FAILED"}
        error = f": {a.error}" if a.error else ""
        self._say(
            f"step {a.step}  {a.node}: {what[a.outcome]} in {a.duration:.3f}s on {a.worker}{error}"
        )

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        super().on_run_end(run_id, error)
        self._say(self.summary())


class LiveProgress(_Tally):
    """A live rich table on a terminal: one row per step (needs ``graphpool[cli]``).

    Raises:
        ImportError: rich is not installed (names the extra).
    """

    def __init__(self, stream: IO[str], *, force_terminal: bool | None = None) -> None:
        super().__init__()
        try:
            from rich.console import Console
            from rich.live import Live
        except ImportError as exc:
            raise ImportError(
                "The live progress display needs rich: pip install 'graphpool[cli]'."
            ) from exc
        self.console = Console(file=stream, force_terminal=force_terminal)
        self.live = Live(console=self.console, refresh_per_second=8, get_renderable=self._table)

    def _table(self) -> Any:
        from rich.table import Table

        with self.lock:
            elapsed = (self.ended or time.monotonic()) - self.started
            table = Table(title=f"graphpool run {self.run_id[:8]}  {elapsed:6.2f}s", expand=False)
            for name in ("step", "running", "done", "retried", "failed", "nodes"):
                justify = "left" if name == "nodes" else "right"
                table.add_column(name, justify=justify)  # type: ignore[arg-type]
            for number, s in sorted(self.steps.items()):
                busy = sum(s.running.values())
                style = "red" if s.failed else ("yellow" if busy else "green")
                table.add_row(
                    str(number),
                    str(busy),
                    str(s.done),
                    str(s.retried),
                    str(s.failed),
                    s.nodes(),
                    style=style,
                )
            return table

    def on_run_start(self, run_id: str) -> None:
        super().on_run_start(run_id)
        self.live.start()

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        super().on_run_end(run_id, error)
        self.live.refresh()
        self.live.stop()
        self.console.print(self.summary(), highlight=False)


def make_progress(stream: IO[str], mode: str = "auto") -> RunObserver | None:
    """The progress observer for ``mode``: ``live``, ``plain``, ``none`` or ``auto``.

    ``auto`` is live on a terminal when rich is installed, plain lines otherwise.
    """
    if mode == "none":
        return None
    if mode == "plain":
        return PlainProgress(stream)
    if mode == "live":
        return LiveProgress(stream, force_terminal=True)
    if stream.isatty():
        try:
            return LiveProgress(stream)
        except ImportError:
            print("(pip install 'graphpool[cli]' for a live display)", file=stream)
    return PlainProgress(stream)
