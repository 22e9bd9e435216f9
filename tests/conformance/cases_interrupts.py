"""``interrupt(response_schema=...)``: the schema an interrupt shows, the answer it
checks, and what an answer that fails the check leaves behind."""

import dataclasses
import operator
from typing import Annotated, TypedDict

from pydantic import BaseModel, ValidationError
from typing_extensions import TypedDict as ExtTypedDict

from .harness import Scenario, make_registry

CASES, case = make_registry()


class Log(TypedDict):
    log: Annotated[list, operator.add]


class Decision(BaseModel):
    approved: bool


class Choice(ExtTypedDict):
    pick: int


@dataclasses.dataclass
class Note:
    text: str


def _thread():
    return {"configurable": {"thread_id": "t"}}


def _asking(lib, schema, show):
    def ask(state):
        answer = lib.interrupt("answer?", response_schema=schema)
        return {"log": [show(answer)]}

    g = lib.StateGraph(Log)
    g.add_node("ask", ask)
    g.add_edge(lib.START, "ask")
    return g.compile(checkpointer=lib.MemorySaver())


def _schemas(result):
    return [i.response_schema for i in result.get("__interrupt__", [])]


def _answered(graph, lib, bad, good):
    """Ask, answer badly (by id), look at the state, answer well."""
    first = graph.invoke({"log": []}, _thread())
    ident = first["__interrupt__"][0].id
    try:
        graph.invoke(lib.Command(resume={ident: bad}), _thread())
        refused = None
    except ValidationError as exc:
        refused = [e["loc"] for e in exc.errors()]
    state = graph.get_state(_thread())
    pending = [(i.value, i.id == ident, i.response_schema) for i in state.interrupts]
    last = graph.invoke(lib.Command(resume=good), _thread())
    return [first, _schemas(first), refused, pending, state.next, last]


@case()
def case_response_schema_model(lib):
    graph = _asking(lib, Decision, lambda d: f"{type(d).__name__}:{d.approved}")
    script = lambda g: _answered(g, lib, {"approved": "maybe"}, {"approved": "yes"})  # noqa: E731
    return Scenario(graph, mode="script", script=script)


@case()
def case_response_schema_typeddict(lib):
    graph = _asking(lib, Choice, lambda c: c["pick"] * 2)
    script = lambda g: _answered(g, lib, {"pick": "x"}, {"pick": "21"})  # noqa: E731
    return Scenario(graph, mode="script", script=script)


@case()
def case_response_schema_dataclass(lib):
    graph = _asking(lib, Note, lambda n: f"{type(n).__name__}:{n.text}")
    script = lambda g: _answered(g, lib, {"txt": 1}, {"text": "ok"})  # noqa: E731
    return Scenario(graph, mode="script", script=script)


@case()
def case_response_schema_json_dict_is_not_checked(lib):
    schema = {"type": "object", "properties": {"approved": {"type": "boolean"}}}
    graph = _asking(lib, schema, lambda a: a)
    script = lambda g: _answered(g, lib, "anything", "more")  # noqa: E731
    return Scenario(graph, mode="script", script=script)


@case()
def case_invalid_answer_lets_the_other_answered_task_finish(lib):
    ran = []

    def send(state):
        lib.interrupt("send?", response_schema=Decision)
        ran.append("send")
        return {"log": ["sent"]}

    def check(state):
        lib.interrupt("check?", response_schema=Decision)
        ran.append("check")
        return {"log": ["checked"]}

    g = lib.StateGraph(Log)
    g.add_node("send", send)
    g.add_node("check", check)
    g.add_edge(lib.START, "send")
    g.add_edge(lib.START, "check")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        graph.invoke({"log": []}, _thread())
        ids = {i.value: i.id for i in graph.get_state(_thread()).interrupts}
        answers = {ids["send?"]: {"approved": True}, ids["check?"]: {"approved": "nope"}}
        try:
            graph.invoke(lib.Command(resume=answers), _thread())
            refused = False
        except ValidationError:
            refused = True
        pending = [i.value for i in graph.get_state(_thread()).interrupts]
        ran_then = sorted(ran)
        last = graph.invoke(lib.Command(resume={ids["check?"]: {"approved": False}}), _thread())
        return [refused, pending, ran_then, sorted(last["log"]), sorted(ran)]

    return Scenario(graph, mode="script", script=script)
