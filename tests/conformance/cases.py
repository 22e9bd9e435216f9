"""All conformance cases, gathered from the topical case modules."""

from . import (
    cases_async,
    cases_basic,
    cases_build,
    cases_checkpoint,
    cases_command,
    cases_debug_chunks,
    cases_edge,
    cases_handlers,
    cases_interrupts,
    cases_messages,
    cases_nest_parallel,
    cases_options,
    cases_parallel,
    cases_routing,
    cases_runtime,
    cases_state,
    cases_subgraphs,
    cases_time_travel,
    cases_updates,
)

CASES = [
    *cases_basic.CASES,
    *cases_parallel.CASES,
    *cases_routing.CASES,
    *cases_command.CASES,
    *cases_state.CASES,
    *cases_async.CASES,
    *cases_edge.CASES,
    *cases_build.CASES,
    *cases_messages.CASES,
    *cases_checkpoint.CASES,
    *cases_interrupts.CASES,
    *cases_options.CASES,
    *cases_updates.CASES,
    *cases_time_travel.CASES,
    *cases_subgraphs.CASES,
    *cases_debug_chunks.CASES,
    *cases_nest_parallel.CASES,
    *cases_runtime.CASES,
    *cases_handlers.CASES,
]

_names = [c.name for c in CASES]
assert len(_names) == len(set(_names)), "duplicate case names"
