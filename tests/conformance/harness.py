"""Differential harness: run one case against a library namespace and record
everything observable (final state, streams, errors) in a comparable form.

A *case* is a function ``case_xxx(lib) -> Scenario`` that builds a graph using
only ``lib.*`` names.  The harness calls the case function afresh for every run
so that node-local counters (closures) start from zero each time.
"""

import asyncio
import dataclasses
import importlib
import os
import re
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NAMESPACE_ATTRS = (
    "StateGraph",
    "START",
    "END",
    "Send",
    "Command",
    "RetryPolicy",
    "GraphRecursionError",
    "InvalidUpdateError",
    "MemorySaver",
    "interrupt",
)
# message support: ``langgraph.graph`` / ``graphpool.graph`` (needs langchain-core)
GRAPH_ATTRS = ("add_messages", "MessagesState", "REMOVE_ALL_MESSAGES")

LIBRARIES = ("langgraph", "graphpool")

_SRC_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "src"))


# --------------------------------------------------------------------------
# namespaces
# --------------------------------------------------------------------------


def langgraph_namespace() -> types.SimpleNamespace:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.errors import GraphRecursionError, InvalidUpdateError
    from langgraph.graph import END, START, StateGraph
    from langgraph.graph.message import REMOVE_ALL_MESSAGES, MessagesState, add_messages
    from langgraph.types import Command, RetryPolicy, Send, interrupt

    return types.SimpleNamespace(
        add_messages=add_messages,
        MessagesState=MessagesState,
        REMOVE_ALL_MESSAGES=REMOVE_ALL_MESSAGES,
        StateGraph=StateGraph,
        START=START,
        END=END,
        Send=Send,
        Command=Command,
        RetryPolicy=RetryPolicy,
        GraphRecursionError=GraphRecursionError,
        InvalidUpdateError=InvalidUpdateError,
        MemorySaver=InMemorySaver,
        interrupt=interrupt,
        name="langgraph",
    )


def graphpool_namespace() -> types.SimpleNamespace:
    """Import graphpool lazily (it may not exist while tests are collected)."""
    try:
        gp = importlib.import_module("graphpool")
    except ModuleNotFoundError as exc:
        if exc.name != "graphpool" or _SRC_DIR in sys.path:
            raise
        # not installed into the venv: fall back to the src layout checkout
        sys.path.insert(0, _SRC_DIR)
        gp = importlib.import_module("graphpool")
    checkpoint = importlib.import_module("graphpool.checkpoint")
    attrs = {name: getattr(gp, name, None) for name in NAMESPACE_ATTRS}
    attrs["MemorySaver"] = checkpoint.InMemorySaver
    graph = importlib.import_module("graphpool.graph")
    attrs.update({name: getattr(graph, name) for name in GRAPH_ATTRS})
    return types.SimpleNamespace(**attrs, name="graphpool")


def namespace(name: str) -> types.SimpleNamespace:
    if name == "langgraph":
        return langgraph_namespace()
    if name == "graphpool":
        return graphpool_namespace()
    raise ValueError(f"unknown library {name!r}")


# --------------------------------------------------------------------------
# scenario and case registry
# --------------------------------------------------------------------------


@dataclass
class Scenario:
    """What a case hands back to the harness."""

    graph: Any
    input: Any = None
    config: dict | None = None
    # "invoke" | "ainvoke" | "batch" | "abatch"
    mode: str = "invoke"
    # inputs for batch / abatch
    inputs: list | None = None
    # substrings that must appear in the error message (checked on both libs)
    error_mentions: tuple = ()
    # also run the three stream flavours (invoke / ainvoke modes only)
    stream: bool = True
    # mode "script": ``script(graph)`` makes several calls (say, on one thread
    # of a checkpointer) and returns what they observed, to be compared
    script: Callable[[Any], Any] | None = None


@dataclass
class Case:
    fn: Callable[[types.SimpleNamespace], Scenario]
    # expected outcome on langgraph: "ok", "build_error", or an error kind
    # such as "InvalidUpdateError", "GraphRecursionError", "ValueError"
    expect: str = "ok"
    # for build errors: is the exception a ValueError subclass on langgraph?
    build_value_error: bool | None = None
    # graphpool's outcome label where it differs: a documented difference
    # (README, "Differences from LangGraph") with ``why`` set skips the
    # differential comparison; without ``why`` only the label differs (an error
    # that is both graphpool's and the builtin type LangGraph raises)
    graphpool_expect: str | None = None
    why: str = ""

    @property
    def name(self) -> str:
        return self.fn.__name__.removeprefix("case_")

    def __call__(self, lib):
        return self.fn(lib)


def make_registry():
    """Return ``(cases_list, decorator)`` for a case module."""
    cases: list[Case] = []

    def case(
        expect: str = "ok",
        build_value_error: bool | None = None,
        graphpool_expect: str | None = None,
        why: str = "",
    ):
        def deco(fn):
            cases.append(Case(fn, expect, build_value_error, graphpool_expect, why))
            return fn

        return deco

    return cases, case


# --------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------


def norm(value: Any) -> Any:
    """Turn outputs into plain, comparable data while keeping type identity
    at the level of class *names* (case-local classes differ per build)."""
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(norm(v) for v in value)
    if type(value).__name__ == "Interrupt":  # ids are each library's own hashes
        return ("<Interrupt>", norm(value.value), norm(getattr(value, "response_schema", None)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: norm(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return ("<dataclass>", type(value).__name__, fields)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        fields = norm(dump())
        if _is_message(value) and isinstance(fields.get("id"), str) and _UUID.match(fields["id"]):
            fields["id"] = "<uuid>"  # drawn at random by add_messages, in both libraries
        return ("<model>", type(value).__name__, fields)
    cls = type(value).__name__
    if cls == "Send":
        return ("<Send>", value.node, norm(value.arg))
    if cls == "Command":
        return ("<Command>", norm(value.update), norm(value.goto))
    return value


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _is_message(value: Any) -> bool:
    return any(c.__name__ == "BaseMessage" for c in type(value).__mro__)


def canon(value: Any) -> str:
    """Order-independent-for-dicts text form, used to sort multisets."""
    if isinstance(value, dict):
        items = sorted((canon(k), canon(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(canon(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(canon(v) for v in value) + ")"
    return repr(value)


def error_signature(exc: BaseException, lib, mentions: tuple) -> dict:
    if isinstance(exc, lib.GraphRecursionError):
        kind = "GraphRecursionError"
    elif isinstance(exc, lib.InvalidUpdateError):
        kind = "InvalidUpdateError"
    else:
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    text = str(exc)
    # what an ``except`` clause could catch it as: a graphpool error that is also
    # the builtin type LangGraph raises counts as the same type
    catchable = [f"builtins.{c.__name__}" for c in type(exc).__mro__ if c.__module__ == "builtins"]
    return {
        "kind": kind,
        "catchable_as": catchable,
        "mentions": {m: (m in text) for m in mentions},
    }


# --------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------


def _stream_sync(graph, inp, config, mode):
    chunks: list = []
    kwargs = {} if mode is None else {"stream_mode": mode}  # None: each library's default
    try:
        for chunk in graph.stream(inp, config, **kwargs):
            chunks.append(chunk)
    except Exception as exc:
        return chunks, exc
    return chunks, None


def _stream_async(graph, inp, config, mode):
    async def go():
        chunks: list = []
        kwargs = {} if mode is None else {"stream_mode": mode}
        try:
            async for chunk in graph.astream(inp, config, **kwargs):
                chunks.append(chunk)
        except Exception as exc:
            return chunks, exc
        return chunks, None

    return asyncio.run(go())


def _summarise_updates(chunks, err, sig):
    # parallel tasks may finish in any order: compare as a multiset.  When the
    # run failed, which sibling updates got out before the error is timing
    # dependent, so only the error is compared.
    if err is not None:
        return {"error": sig(err)}
    return {"multiset": sorted(canon(norm(c)) for c in chunks), "error": None}


def _summarise_values(chunks, err, sig):
    return {
        "chunks": [norm(c) for c in chunks],
        # LangGraph lists state keys in schema order; so must graphpool
        "key_order": [list(c) if isinstance(c, dict) else None for c in chunks],
        "error": sig(err) if err else None,
    }


def _summarise_both(chunks, err, sig):
    """``stream_mode=["values", "updates"]``: every item must be a
    ``(mode, chunk)`` tuple.  Updates are grouped into the segments delimited
    by values chunks and compared as a multiset per segment."""
    shapes = []
    segments: list = []
    current: list = []
    for item in chunks:
        if not (isinstance(item, tuple) and len(item) == 2):
            shapes.append(("<not a (mode, chunk) tuple>", canon(norm(item))))
            continue
        mode, chunk = item
        if mode == "values":
            segments.append(("updates", sorted(canon(norm(c)) for c in current)))
            segments.append(("values", norm(chunk)))
            current = []
        elif mode == "updates":
            current.append(chunk)
        else:
            shapes.append(("<unexpected mode>", mode))
    if err is None:
        segments.append(("updates", sorted(canon(norm(c)) for c in current)))
    # on error the trailing partial segment is timing dependent: dropped
    return {"shapes": shapes, "segments": segments, "error": sig(err) if err else None}


def _build(case, lib):
    try:
        return case(lib), None
    except Exception as exc:  # build / compile time failure
        return None, exc


def run_case(case, lib) -> dict:
    """Run ``case`` against namespace ``lib``; return a comparable record."""
    scenario, exc = _build(case, lib)
    if exc is not None:
        return {"build_error": {"raised": True, "value_error": isinstance(exc, ValueError)}}

    def sig(err):
        return error_signature(err, lib, scenario.error_mentions)

    record: dict = {"build_error": None}
    mode = scenario.mode
    if mode in ("invoke", "ainvoke"):
        try:
            if mode == "invoke":
                out = scenario.graph.invoke(scenario.input, scenario.config)
            else:
                out = asyncio.run(scenario.graph.ainvoke(scenario.input, scenario.config))
            record["result"] = {"value": norm(out), "type": type(out).__name__}
            if isinstance(out, dict):
                record["result"]["key_order"] = list(out)
        except Exception as err:
            record["result"] = {"error": sig(err)}
        if scenario.stream:
            streamer = _stream_sync if mode == "invoke" else _stream_async
            for key, smode, summarise in (
                ("default", None, _summarise_updates),  # no stream_mode: LangGraph's updates
                ("updates", "updates", _summarise_updates),
                ("values", "values", _summarise_values),
                ("values+updates", ["values", "updates"], _summarise_both),
            ):
                fresh, build_exc = _build(case, lib)
                if build_exc is not None:
                    raise build_exc
                chunks, err = streamer(fresh.graph, fresh.input, fresh.config, smode)
                record[key] = summarise(chunks, err, sig)
    elif mode == "script":
        try:
            record["result"] = {"value": norm(scenario.script(scenario.graph))}
        except Exception as err:
            record["result"] = {"error": sig(err)}
    elif mode in ("batch", "abatch"):
        try:
            if mode == "batch":
                outs = scenario.graph.batch(scenario.inputs, scenario.config)
            else:
                outs = asyncio.run(scenario.graph.abatch(scenario.inputs, scenario.config))
            record["result"] = {"value": [norm(o) for o in outs]}
        except Exception as err:
            record["result"] = {"error": sig(err)}
    else:
        raise ValueError(f"unknown scenario mode {mode!r}")
    return record


def outcome(record: dict) -> str:
    """Short label of what happened, matched against ``Case.expect``."""
    if record.get("build_error"):
        return "build_error"
    result = record["result"]
    if "error" in result:
        return result["error"]["kind"].rsplit(".", 1)[-1]
    return "ok"


def diff_records(expected: dict, actual: dict) -> list[str]:
    """Human readable list of aspects where ``actual`` differs."""
    expected, actual = _align_error_kinds(expected), _align_error_kinds(actual, expected)
    problems = []
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key, "<missing>") != actual.get(key, "<missing>"):
            problems.append(
                f"[{key}]\n  langgraph: {expected.get(key, '<missing>')!r}\n"
                f"  graphpool: {actual.get(key, '<missing>')!r}"
            )
    return problems


def _align_error_kinds(record: dict, reference: dict | None = None) -> dict:
    """Drop ``catchable_as``; with a reference, count an error as the reference's
    kind when it can be caught as that builtin type."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict) and isinstance(value.get("error"), dict):
            error = dict(value["error"])
            catchable = error.pop("catchable_as", [])
            ref = (reference or {}).get(key)
            ref_error = ref.get("error") if isinstance(ref, dict) else None
            if isinstance(ref_error, dict) and ref_error["kind"] in catchable:
                error["kind"] = ref_error["kind"]
            value = {**value, "error": error}
        out[key] = value
    return out
