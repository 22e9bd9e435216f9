"""OpenTelemetry spans for runs and task attempts (``pip install 'graphpool[otel]'``).

:class:`OpenTelemetryObserver` is a :class:`~graphpool.RunObserver`: give it
with ``config={"observer": OpenTelemetryObserver()}``. Each run becomes a span
(``graphpool.run``), child of whatever span is current where ``invoke`` is
called, and each task attempt a child span named after its node, with the
attempt's own start and end times. OpenTelemetry is imported when the
observer is made, never by ``import graphpool``.
"""

from __future__ import annotations

import threading
from typing import Any

from ._observe import RunObserver, TaskAttempt

__all__ = ["OpenTelemetryObserver"]

SCOPE = "graphpool"
"""The instrumentation scope name of the spans."""


def _require() -> Any:
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ImportError(
            "OpenTelemetryObserver needs opentelemetry: pip install 'graphpool[otel]' "
            "(opentelemetry-sdk), then set up a TracerProvider and exporter."
        ) from exc
    return trace


class OpenTelemetryObserver(RunObserver):
    """Reports runs and task attempts as OpenTelemetry spans.

    Args:
        tracer_provider: where the spans go; default: the global provider
            (``opentelemetry.trace.set_tracer_provider``).

    Spans:
        ``graphpool.run``: one per run, attribute ``graphpool.run_id``; status
            ERROR with the exception recorded if the run raised.
        ``<node>``: one per task attempt, a child of its run's span, attributes
            ``graphpool.run_id``, ``graphpool.step``, ``graphpool.node``,
            ``graphpool.attempt``, ``graphpool.worker`` and ``graphpool.outcome``;
            status ERROR (with ``graphpool.error``) for an attempt that failed,
            retried or not.

    One observer may serve many runs at once.

    Raises:
        ImportError: opentelemetry is not installed (names the extra).
    """

    def __init__(self, tracer_provider: Any = None) -> None:
        trace = _require()
        self._trace = trace
        self._tracer = trace.get_tracer(SCOPE, tracer_provider=tracer_provider)
        self._runs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def on_run_start(self, run_id: str) -> None:
        span = self._tracer.start_span("graphpool.run", attributes={"graphpool.run_id": run_id})
        with self._lock:
            self._runs[run_id] = span

    def on_task_end(self, attempt: TaskAttempt) -> None:
        a = attempt
        with self._lock:
            run = self._runs.get(a.run_id)
        context = self._trace.set_span_in_context(run) if run is not None else None
        attributes: dict[str, Any] = {
            "graphpool.run_id": a.run_id,
            "graphpool.step": a.step,
            "graphpool.node": a.node,
            "graphpool.attempt": a.attempt,
            "graphpool.worker": a.worker,
            "graphpool.outcome": a.outcome,
        }
        if a.error is not None:
            attributes["graphpool.error"] = a.error
        span = self._tracer.start_span(
            a.node, context=context, attributes=attributes, start_time=_ns(a.start)
        )
        if a.outcome != "succeeded":
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, a.error))
        span.end(end_time=_ns(a.end))

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        with self._lock:
            span = self._runs.pop(run_id, None)
        if span is None:
            return
        if error is not None:
            span.record_exception(error)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, repr(error)))
        span.end()


def _ns(seconds: float) -> int:
    return int(seconds * 1_000_000_000)
