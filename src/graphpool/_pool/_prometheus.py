"""Optional Prometheus exporter for pool metrics (``pip install 'graphpool[metrics]'``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._base import WorkerPool

__all__ = ["serve_metrics"]


def _require() -> Any:
    try:
        import prometheus_client
    except ImportError as exc:
        raise ImportError(
            "The Prometheus exporter needs prometheus-client: pip install 'graphpool[metrics]'."
        ) from exc
    return prometheus_client


def _collector(pools: dict[str, WorkerPool]) -> Any:
    from prometheus_client import core as metrics

    _require()

    class PoolCollector:
        def collect(self) -> Iterator[Any]:
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

    return PoolCollector()


def serve_metrics(
    pools: WorkerPool | dict[str, WorkerPool], port: int = 0, addr: str = "127.0.0.1"
) -> tuple[Any, int]:
    """Serve pool metrics at ``http://addr:port/metrics`` in a background thread.

    Binds to loopback by default; pass ``addr="0.0.0.0"`` to expose it. ``port=0``
    picks a free port. Returns ``(server, port)``; call ``server.shutdown()`` to stop.
    """
    prometheus = _require()
    named = pools if isinstance(pools, dict) else {"default": pools}
    registry = prometheus.CollectorRegistry()
    registry.register(_collector(named))
    server, _thread = prometheus.start_http_server(port, addr=addr, registry=registry)
    return server, server.server_port
