"""Pool metrics: counters, latency histograms, and the frozen record ``stats()`` returns."""

from __future__ import annotations

import bisect
import dataclasses
import threading

__all__ = ["Histogram", "PoolMetrics", "PoolStats"]

BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds in seconds, Prometheus-style; a last bucket catches the rest."""


@dataclasses.dataclass(frozen=True)
class Histogram:
    """Counts of observations per bucket (``counts[i]`` for ``<= buckets[i]``, last: the rest)."""

    buckets: tuple[float, ...]
    counts: tuple[int, ...]
    total: float

    @property
    def count(self) -> int:
        return sum(self.counts)

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding quantile ``q`` (inf past the last bucket)."""
        if not self.count:
            return 0.0
        rank, seen = q * self.count, 0
        for bound, n in zip((*self.buckets, float("inf")), self.counts, strict=True):
            seen += n
            if seen >= rank:
                return bound
        return float("inf")


class _Hist:
    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds

    def freeze(self) -> Histogram:
        return Histogram(BUCKETS, tuple(self.counts), self.total)


@dataclasses.dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool, from ``pool.stats()``.

    Attributes:
        kind: the pool kind.
        workers, busy, idle: workers alive, running a task, waiting for one.
        queued: tasks waiting (in the shared queue or prefetched by a worker).
        peak_queued: the most tasks ever waiting at once.
        active_runs: runs admitted and not finished.
        started, finished, failed, retried, stolen: task counts since the pool
            started (``stolen``: taken by an idle worker from another worker's
            prefetched tasks).
        rejected: runs refused admission (``PoolSaturatedError``).
        task_wait: time tasks spent queued before a worker started them.
        run_latency: wall time of finished runs.
        abandoned: tasks still running whose caller gave up on them (their run
            failed or was cancelled, or they timed out); each still holds its
            worker, and counts in ``busy``, until its body returns.
    """

    kind: str
    workers: int
    busy: int
    idle: int
    queued: int
    peak_queued: int
    active_runs: int
    started: int
    finished: int
    failed: int
    retried: int
    stolen: int
    rejected: int
    task_wait: Histogram
    run_latency: Histogram
    abandoned: int = 0


class PoolMetrics:
    """Mutable counters behind :class:`PoolStats`; safe to update from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = self.finished = self.failed = self.retried = 0
        self.stolen = self.rejected = self.peak_queued = 0
        self._wait = _Hist()
        self._latency = _Hist()

    def task_started(self, waited: float, stolen: bool = False) -> None:
        with self._lock:
            self.started += 1
            self.stolen += stolen
            self._wait.observe(waited)

    def task_finished(self) -> None:
        with self._lock:
            self.finished += 1

    def task_failed(self, retried: bool) -> None:
        with self._lock:
            self.failed += 1
            self.retried += retried

    def run_rejected(self) -> None:
        with self._lock:
            self.rejected += 1

    def run_finished(self, seconds: float) -> None:
        with self._lock:
            self._latency.observe(seconds)

    def snapshot(
        self,
        kind: str,
        workers: int,
        busy: int,
        idle: int,
        queued: int,
        active_runs: int,
        *,
        abandoned: int = 0,
    ) -> PoolStats:
        with self._lock:
            return PoolStats(
                kind,
                workers,
                busy,
                idle,
                queued,
                self.peak_queued,
                active_runs,
                self.started,
                self.finished,
                self.failed,
                self.retried,
                self.stolen,
                self.rejected,
                self._wait.freeze(),
                self._latency.freeze(),
                abandoned,
            )
