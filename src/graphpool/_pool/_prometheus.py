"""Optional Prometheus exporter for pool metrics (``pip install 'graphpool[metrics]'``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

from ._base import WorkerPool

__all__ = ["PoolCollector", "default_pools", "serve_metrics"]

MetricPools: TypeAlias = WorkerPool | Mapping[str, WorkerPool] | None
"""What to export: one pool (labelled ``default``), pools by label, or None
for the process-wide default pools (see :func:`default_pools`)."""


def default_pools() -> dict[str, WorkerPool]:
    """The process-wide default pools by label: ``default`` (the thread pool runs use
    when they name none) and, once something used it, ``process``."""
    from ._thread import default_pool

    pools: dict[str, WorkerPool] = {"default": default_pool()}
    process = sys.modules.get(f"{__package__}._process")
    made = getattr(process, "_default", None)
    if made is not None:
        pools["process"] = made
    return pools


def _named(pools: MetricPools) -> dict[str, WorkerPool] | None:
    if pools is None:
        return None
    if isinstance(pools, Mapping):
        return dict(pools)
    return {"default": pools}


def _require() -> Any:
    try:
        import prometheus_client
    except ImportError as exc:
        raise ImportError(
            "The Prometheus exporter needs prometheus-client: pip install 'graphpool[metrics]'."
        ) from exc
    return prometheus_client


class PoolCollector:
    """A Prometheus collector of pool metrics, for an application's own registry::

        from prometheus_client import REGISTRY
        REGISTRY.register(graphpool.PoolCollector())  # the default pools

    Args:
        pools: one pool, pools by label, or None (the default) for the
            process-wide default pools, looked up at each scrape.

    Every metric is named ``graphpool_*`` and labelled ``pool``.
    """

    def __init__(self, pools: MetricPools = None) -> None:
        _require()
        self._pools = _named(pools)

    def describe(self) -> list[Any]:
        # No up-front description: registering must not create the default pool.
        return []

    def collect(self) -> Iterator[Any]:
        """The metrics right now (called by the registry at each scrape)."""
        pools = self._pools if self._pools is not None else default_pools()
        yield from _families(pools)


def _families(pools: Mapping[str, WorkerPool]) -> Iterator[Any]:
    from prometheus_client import core as metrics

    gauges = {
        name: metrics.GaugeMetricFamily(f"graphpool_{name}", help, labels=["pool"])
        for name, help in (
            ("workers", "Workers alive."),
            ("busy_workers", "Workers running a task."),
            ("idle_workers", "Workers waiting for a task."),
            ("queue_depth", "Tasks waiting."),
            ("active_runs", "Runs admitted and not finished."),
            ("abandoned_tasks", "Tasks given up on whose bodies still run."),
        )
    }
    counters = {
        name: metrics.CounterMetricFamily(f"graphpool_{name}", help, labels=["pool"])
        for name, help in (
            ("tasks_started", "Tasks started."),
            ("tasks_finished", "Tasks finished."),
            ("tasks_failed", "Task attempts that failed."),
            ("tasks_retried", "Failed attempts that were retried."),
            ("tasks_stolen", "Tasks taken from another worker's prefetched tasks."),
            ("runs_rejected", "Runs refused admission."),
        )
    }
    waits = metrics.HistogramMetricFamily(
        "graphpool_task_wait_seconds", "Time tasks spent queued.", labels=["pool"]
    )
    latency = metrics.HistogramMetricFamily(
        "graphpool_run_latency_seconds", "Wall time of finished runs.", labels=["pool"]
    )
    for label, pool in pools.items():
        s = pool.stats()  # type: ignore[attr-defined]
        for name, value in (
            ("workers", s.workers),
            ("busy_workers", s.busy),
            ("idle_workers", s.idle),
            ("queue_depth", s.queued),
            ("active_runs", s.active_runs),
            ("abandoned_tasks", getattr(s, "abandoned", 0)),
        ):
            gauges[name].add_metric([label], value)
        for name, value in (
            ("tasks_started", s.started),
            ("tasks_finished", s.finished),
            ("tasks_failed", s.failed),
            ("tasks_retried", s.retried),
            ("tasks_stolen", s.stolen),
            ("runs_rejected", s.rejected),
        ):
            counters[name].add_metric([label], value)
        for family, hist in ((waits, s.task_wait), (latency, s.run_latency)):
            cumulative, buckets = 0, []
            for bound, n in zip((*hist.buckets, float("inf")), hist.counts, strict=True):
                cumulative += n
                edge = "+Inf" if bound == float("inf") else str(bound)
                buckets.append((edge, cumulative))
            family.add_metric([label], buckets, sum_value=hist.total)
    yield from gauges.values()
    yield from counters.values()
    yield waits
    yield latency


def serve_metrics(
    pools: MetricPools = None, port: int = 0, addr: str = "127.0.0.1"
) -> tuple[Any, int]:
    """Serve pool metrics at ``http://addr:port/metrics`` in a background thread.

    ``pools``: one pool, pools by label, or None (the default) for the
    process-wide default pools. Binds to loopback by default; pass
    ``addr="0.0.0.0"`` to expose it. ``port=0`` picks a free port. Returns
    ``(server, port)``; call ``server.shutdown()`` to stop. To export through an
    existing registry instead of a second port, register a :class:`PoolCollector`.
    """
    prometheus = _require()
    registry = prometheus.CollectorRegistry()
    registry.register(PoolCollector(pools))
    server, _thread = prometheus.start_http_server(port, addr=addr, registry=registry)
    return server, server.server_port
