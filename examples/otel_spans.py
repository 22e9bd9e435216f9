"""OpenTelemetry spans for a graphpool run: one for the run, one per node attempt.

    pip install 'graphpool[otel]'
    python examples/otel_spans.py

The spans are kept in memory and printed as a tree here; in production, give
the TracerProvider a BatchSpanProcessor with an OTLP exporter to send them to
Jaeger, Tempo, Honeycomb, Langfuse, ... instead.
"""

import operator
from typing import Annotated, TypedDict

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from graphpool import END, START, OpenTelemetryObserver, StateGraph

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)


class State(TypedDict):
    log: Annotated[list, operator.add]


builder = StateGraph(State)
builder.add_node("fetch", lambda s: {"log": ["fetched"]})
builder.add_node("rank", lambda s: {"log": ["ranked"]})
builder.add_node("answer", lambda s: {"log": ["answered"]})
builder.add_edge(START, "fetch")
builder.add_edge(START, "rank")
builder.add_edge(["fetch", "rank"], "answer")
builder.add_edge("answer", END)
graph = builder.compile()

observer = OpenTelemetryObserver()  # spans go to the global provider set above
with trace.get_tracer("example").start_as_current_span("request"):
    graph.invoke({"log": []}, config={"observer": observer})

spans = exporter.get_finished_spans()
children: dict = {}
for span in spans:
    children.setdefault(span.parent.span_id if span.parent else None, []).append(span)


def show(parent_id, depth: int) -> None:
    for span in sorted(
        children.get(parent_id, []), key=lambda s: (s.attributes.get("graphpool.step", 0), s.name)
    ):
        step = span.attributes.get("graphpool.step")
        where = f" (step {step})" if step is not None else ""
        print(f"{'  ' * depth}{span.name}{where}")
        show(span.context.span_id, depth + 1)


show(None, 0)
