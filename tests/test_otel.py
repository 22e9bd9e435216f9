"""OpenTelemetryObserver: a span per run and per task attempt, into an in-memory exporter."""

from __future__ import annotations

import operator
import sys
from typing import Annotated, TypedDict

import pytest

from graphpool import START, RetryPolicy, Send, StateGraph


class S(TypedDict, total=False):
    log: Annotated[list, operator.add]


def _graph(fail: bool = False):
    calls = {"n": 0}

    def flaky(state: S) -> dict:
        calls["n"] += 1
        if calls["n"] == 1 or fail:
            raise ConnectionError("down")
        return {"log": ["flaky"]}

    b = StateGraph(S)
    b.add_node("plan", lambda s: {"log": ["plan"]})
    b.add_node("work", lambda s: {"log": [s["log"][-1]]})
    b.add_node(
        "flaky",
        flaky,
        retry_policy=RetryPolicy(initial_interval=0.01, jitter=False, max_attempts=2),
    )
    b.add_edge(START, "plan")
    b.add_conditional_edges("plan", lambda s: [Send("work", {"log": [i]}) for i in range(3)])
    b.add_edge("work", "flaky")
    return b.compile()


@pytest.fixture
def spans():
    pytest.importorskip("opentelemetry.sdk", reason="needs graphpool[otel] (opentelemetry-sdk)")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_a_span_per_run_and_per_task_attempt(spans) -> None:
    from opentelemetry.trace import StatusCode

    from graphpool import OpenTelemetryObserver

    provider, exporter = spans
    tracer = provider.get_tracer("app")
    with tracer.start_as_current_span("request") as request:
        out = _graph().invoke(
            {}, config={"observer": OpenTelemetryObserver(provider), "run_id": "r1"}
        )
    assert out["log"][-1] == "flaky"
    finished = exporter.get_finished_spans()
    (run,) = [s for s in finished if s.name == "graphpool.run"]
    assert run.attributes["graphpool.run_id"] == "r1"
    assert run.parent.span_id == request.get_span_context().span_id  # under the caller's span
    assert run.status.status_code is StatusCode.UNSET
    tasks = [s for s in finished if s.name not in ("graphpool.run", "request")]
    assert sorted(s.name for s in tasks) == ["flaky", "flaky", "plan", "work", "work", "work"]
    for span in tasks:
        assert span.parent.span_id == run.context.span_id
        assert span.context.trace_id == run.context.trace_id
        assert run.start_time <= span.start_time <= span.end_time <= run.end_time
        assert span.attributes["graphpool.node"] == span.name
    first, second = sorted(
        (s for s in tasks if s.name == "flaky"), key=lambda s: s.attributes["graphpool.attempt"]
    )
    assert first.attributes["graphpool.outcome"] == "retried"
    assert first.status.status_code is StatusCode.ERROR
    assert "ConnectionError" in first.attributes["graphpool.error"]
    assert second.attributes["graphpool.outcome"] == "succeeded"
    steps = {s.name: s.attributes["graphpool.step"] for s in tasks}
    assert steps["plan"] < steps["work"] < steps["flaky"]


def test_a_failed_run_span_records_the_error(spans) -> None:
    from opentelemetry.trace import StatusCode

    from graphpool import OpenTelemetryObserver

    provider, exporter = spans
    with pytest.raises(ConnectionError):
        _graph(fail=True).invoke({}, config={"observer": OpenTelemetryObserver(provider)})
    (run,) = [s for s in exporter.get_finished_spans() if s.name == "graphpool.run"]
    assert run.status.status_code is StatusCode.ERROR
    assert [e.name for e in run.events] == ["exception"]


def test_without_opentelemetry_the_error_names_the_extra(monkeypatch) -> None:
    from graphpool import OpenTelemetryObserver

    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(ImportError, match=r"pip install 'graphpool\[otel\]'"):
        OpenTelemetryObserver()
