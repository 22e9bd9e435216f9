"""The Prometheus exporter: the default pools without arguments, a public collector."""

from __future__ import annotations

import urllib.request

import pytest
from typing_extensions import TypedDict

import graphpool
from graphpool import START, StateGraph

prometheus_client = pytest.importorskip("prometheus_client")


class S(TypedDict, total=False):
    x: int


def _run_on_default_pool() -> None:
    b = StateGraph(S)
    b.add_node("a", lambda s: {})
    b.add_node("b", lambda s: {})
    b.add_edge(START, "a")
    b.add_edge(START, "b")
    b.compile().invoke({"x": 1})


def _started(registry, pool: str = "default") -> float | None:
    return registry.get_sample_value("graphpool_tasks_started_total", {"pool": pool})


def test_default_pools_are_public() -> None:
    assert graphpool.default_pool() is graphpool._pool.default_pool()
    assert isinstance(graphpool.default_pool(), graphpool.ThreadPool)
    assert callable(graphpool.default_process_pool)


def test_the_collector_goes_into_an_existing_registry_and_follows_the_default_pool() -> None:
    registry = prometheus_client.CollectorRegistry()
    registry.register(graphpool.PoolCollector())
    before = _started(registry)
    assert before is not None
    graphpool.default_pool().submit(int).result(timeout=10)
    assert _started(registry) == graphpool.default_pool().stats().started > before


def test_the_collector_takes_named_pools() -> None:
    pool = graphpool.ThreadPool(max_workers=2)
    try:
        registry = prometheus_client.CollectorRegistry()
        registry.register(graphpool.PoolCollector({"mine": pool}))
        assert _started(registry, "mine") == 0
        assert _started(registry, "default") is None
        pool.submit(int).result(timeout=10)
        assert _started(registry, "mine") == 1
    finally:
        pool.shutdown()


def test_serve_metrics_without_arguments_serves_the_default_pools() -> None:
    _run_on_default_pool()
    server, port = graphpool.serve_metrics()
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
    finally:
        server.shutdown()
    assert 'graphpool_tasks_started_total{pool="default"}' in body.decode()
