"""State schemas (dataclass, pydantic, TypedDict) and reducers."""

import operator
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from pydantic import BaseModel, Field

from .harness import Scenario, make_registry

CASES, case = make_registry()


def merge_dicts(left: dict, right: dict) -> dict:
    return {**left, **right}


def keep_max(left, right):
    return max(left, right)


def upsert_messages(left: list, right) -> list:
    """Message-list style reducer: append new ids, replace existing ids."""
    if not isinstance(right, list):
        right = [right]
    merged = list(left)
    index = {m["id"]: i for i, m in enumerate(merged)}
    for message in right:
        if message["id"] in index:
            merged[index[message["id"]]] = message
        else:
            index[message["id"]] = len(merged)
            merged.append(message)
    return merged


def first_write_wins(left, right):
    return left


@case()
def case_custom_reducer_merge_dicts(lib):
    class S(TypedDict):
        meta: Annotated[dict, merge_dicts]
        order: Annotated[list, operator.add]

    def writer(key, val):
        def node(state):
            return {"meta": {key: val, "last": key}, "order": [key]}

        return node

    g = lib.StateGraph(S)
    g.add_node("k1", writer("k1", 1))
    g.add_node("k2", writer("k2", 2))
    g.add_node("k3", writer("k3", 3))
    g.add_edge(lib.START, "k1")
    g.add_edge("k1", "k2")
    g.add_edge("k1", "k3")
    g.add_edge("k3", lib.END)
    # parallel k2, k3 both write "last": name order decides the winner
    return Scenario(g.compile(), {"meta": {"seed": 0, "last": "input"}})


@case()
def case_custom_reducer_keep_max_default(lib):
    # the reducer channel starts at int() == 0, so negative writes lose to 0
    class S(TypedDict):
        best: Annotated[int, keep_max]
        seen: Annotated[list, operator.add]

    def emit(v):
        return lambda state: {"best": v, "seen": [v]}

    g = lib.StateGraph(S)
    for i, v in enumerate((-5, -3, -9)):
        g.add_node(f"e{i}", emit(v))
        g.add_edge(lib.START, f"e{i}")
    return Scenario(g.compile(), {"seen": []})


@case()
def case_custom_reducer_keep_max_with_input(lib):
    class S(TypedDict):
        best: Annotated[int, keep_max]

    g = lib.StateGraph(S)
    g.add_node("low", lambda s: {"best": 4})
    g.add_node("high", lambda s: {"best": 40})
    g.add_node("mid", lambda s: {"best": 12})
    g.add_edge(lib.START, "low")
    g.add_edge(lib.START, "high")
    g.add_edge("low", "mid")
    return Scenario(g.compile(), {"best": 10})


@case()
def case_reducer_on_optional_type_first_write_bypasses(lib):
    # `int | None` cannot be instantiated: the channel starts empty and the
    # very first write is stored as-is, without calling the reducer
    class S(TypedDict):
        winner: Annotated[int | None, first_write_wins]
        log: Annotated[list, operator.add]

    g = lib.StateGraph(S)
    g.add_node("one", lambda s: {"winner": 1, "log": ["one"]})
    g.add_node("two", lambda s: {"winner": 2, "log": [f"two saw {s.get('winner')}"]})
    g.add_edge(lib.START, "one")
    g.add_edge("one", "two")
    return Scenario(g.compile(), {"log": []})


@case()
def case_message_list_reducer(lib):
    class Chat(TypedDict):
        messages: Annotated[list, upsert_messages]

    def user(state):
        return {"messages": [{"id": "u1", "text": "hi"}]}

    def bot(state):
        return {"messages": {"id": "b1", "text": f"echo {len(state['messages'])}"}}

    def edit(state):
        return {"messages": [{"id": "u1", "text": "hello"}, {"id": "b2", "text": "edited"}]}

    g = lib.StateGraph(Chat)
    g.add_sequence([user, bot, edit])
    g.add_edge(lib.START, "user")
    return Scenario(g.compile(), {"messages": [{"id": "sys", "text": "be nice"}]})


@case()
def case_message_reducer_parallel_replace(lib):
    class Chat(TypedDict):
        messages: Annotated[list, upsert_messages]

    g = lib.StateGraph(Chat)
    g.add_node("b_writer", lambda s: {"messages": [{"id": "m", "text": "from b"}]})
    g.add_node("a_writer", lambda s: {"messages": [{"id": "m", "text": "from a"}]})
    g.add_edge(lib.START, "b_writer")
    g.add_edge(lib.START, "a_writer")
    return Scenario(g.compile(), {"messages": []})


@dataclass
class DataState:
    name: str
    count: int = 0
    tags: Annotated[list, operator.add] = field(default_factory=list)
    note: str = "default note"


@case()
def case_dataclass_state_with_defaults(lib):
    def greet(state: DataState):
        return {"count": state.count + 1, "tags": [f"hi {state.name}"]}

    def shout(state: DataState):
        return {"name": state.name.upper(), "tags": [state.note]}

    g = lib.StateGraph(DataState)
    g.add_node("greet", greet)
    g.add_node("shout", shout)
    g.add_edge(lib.START, "greet")
    g.add_edge("greet", "shout")
    g.add_edge("shout", lib.END)
    return Scenario(g.compile(), {"name": "ada"})


class ModelState(BaseModel):
    topic: str
    score: int = 10
    history: Annotated[list, operator.add] = Field(default_factory=list)
    label: str | None = None


@case()
def case_pydantic_state_with_defaults(lib):
    def rate(state: ModelState):
        return {"score": state.score * 2, "history": [f"rate {state.topic}"]}

    def tag(state: ModelState):
        return {"label": f"{state.topic}:{state.score}", "history": [f"label was {state.label}"]}

    g = lib.StateGraph(ModelState)
    g.add_node("rate", rate)
    g.add_node("tag", tag)
    g.add_edge(lib.START, "rate")
    g.add_edge("rate", "tag")
    g.add_edge("tag", lib.END)
    return Scenario(g.compile(), {"topic": "graphs"})


@case()
def case_pydantic_state_model_input(lib):
    # the input may itself be a model instance
    def bump(state: ModelState):
        return {"score": state.score + 1}

    g = lib.StateGraph(ModelState)
    g.add_node("bump", bump)
    g.add_edge(lib.START, "bump")
    g.add_edge("bump", lib.END)
    # fields left at a None default are not written; an explicit None is
    return Scenario(g.compile(), ModelState(topic="typed", score=1, history=["seed"]))


@case()
def case_pydantic_model_input_explicit_none(lib):
    g = lib.StateGraph(ModelState)
    g.add_node("noop", lambda s: {"history": [f"label={s.label}"]})
    g.add_edge(lib.START, "noop")
    return Scenario(g.compile(), ModelState(topic="explicit", label=None))


@case()
def case_pydantic_node_returns_model(lib):
    # returning a model instance writes its fields (None-valued fields that
    # were never set are skipped)
    def rebuild(state: ModelState):
        return ModelState(topic=state.topic + "!", score=state.score + 1)

    def copy_it(state: ModelState):
        return state.model_copy(update={"label": "copied"})

    g = lib.StateGraph(ModelState)
    g.add_node("rebuild", rebuild)
    g.add_node("copy_it", copy_it)
    g.add_edge(lib.START, "rebuild")
    g.add_edge("rebuild", "copy_it")
    return Scenario(g.compile(), {"topic": "m", "history": ["h"]})


@case()
def case_dataclass_node_returns_instance(lib):
    def replace_all(state: DataState):
        return DataState(name=state.name + "2", count=state.count + 5)

    g = lib.StateGraph(DataState)
    g.add_node("replace_all", replace_all)
    g.add_edge(lib.START, "replace_all")
    return Scenario(g.compile(), DataState(name="dc", tags=["t"]))


@case(expect="ValidationError")
def case_pydantic_state_invalid_input(lib):
    g = lib.StateGraph(ModelState)
    g.add_node("noop", lambda s: {"history": ["noop"]})
    g.add_edge(lib.START, "noop")
    return Scenario(g.compile(), {"topic": "x", "score": "not a number"})


@case()
def case_keys_never_written(lib):
    class S(TypedDict):
        a: int
        b: str
        untouched: str
        bag: Annotated[list, operator.add]
        total: Annotated[int, operator.add]

    g = lib.StateGraph(S)
    g.add_node("only_b", lambda s: {"b": "set"})
    g.add_edge(lib.START, "only_b")
    g.add_edge("only_b", lib.END)
    return Scenario(g.compile(), {"a": 1})


@case()
def case_none_written_explicitly(lib):
    class S(TypedDict):
        a: int | None
        b: str | None

    g = lib.StateGraph(S)
    g.add_node("clear", lambda s: {"a": None})
    g.add_edge(lib.START, "clear")
    return Scenario(g.compile(), {"a": 5, "b": None})


# -- a root state: the schema is one type without keys --------------------------------


@case()
def case_root_state_reduced_list(lib):
    def first(state: list):
        return [f"first saw {len(state)}"]

    def second(state):
        return [lib.Command(update=["cmd"]), ["plain"]]

    g = lib.StateGraph(Annotated[list, operator.add])
    g.add_node("first", first)
    g.add_node("second", second)
    g.add_edge(lib.START, "first")
    g.add_edge("first", "second")
    return Scenario(g.compile(), ["in"])


@case()
def case_root_state_last_value(lib):
    g = lib.StateGraph(str)
    g.add_node("shout", lambda s: s.upper())
    g.add_node("nothing", lambda s: None)
    g.add_conditional_edges("shout", lambda s: "nothing" if s.isupper() else lib.END)
    g.add_edge(lib.START, "shout")
    return Scenario(g.compile(), "hello")


@case()
def case_root_state_sends_and_snapshot(lib):
    def fan(state):
        return [lib.Send("leaf", n) for n in state]

    g = lib.StateGraph(Annotated[list, operator.add])
    g.add_node("leaf", lambda n: [n * 10])
    g.add_conditional_edges(lib.START, fan)
    graph = g.compile(checkpointer=lib.MemorySaver())
    config = {"configurable": {"thread_id": "t"}}

    def script(graph):
        out = graph.invoke([1, 2], config)
        state = graph.get_state(config)
        graph.update_state(config, [99])
        return [out, state.values, state.next, graph.get_state(config).values]

    return Scenario(graph, mode="script", script=script)


# -- a node's input schema, read from its first parameter's annotation ---------------


class Overall(TypedDict):
    foo: Annotated[int, operator.add]
    bar: str


class Private(TypedDict):
    baz: str


@case()
def case_node_input_schema_from_annotation(lib):
    def first(state: Overall):
        return {"foo": 1, "baz": f"seen {sorted(state)}"}

    def second(state: Private):
        return {"foo": 1, "bar": f"{sorted(state)} {state['baz']}"}

    g = lib.StateGraph(Overall)
    g.add_node("first", first)
    g.add_node("second", second)
    g.add_edge(lib.START, "first")
    g.add_edge("first", "second")
    return Scenario(g.compile(), {"foo": 0})


class Outward(TypedDict):
    bar: str


@case()
def case_stream_shows_every_key_invoke_the_output(lib):
    g = lib.StateGraph(Overall, output_schema=Outward)
    g.add_node("one", lambda s: {"foo": 1, "bar": "b"})
    g.add_node("two", lambda s: {"foo": 1})
    g.add_edge(lib.START, "one")
    g.add_edge("one", "two")
    graph = g.compile()

    def script(graph):
        modes = ["values", "updates", "tasks"]
        tasks = lambda chunks: [  # noqa: E731
            (m, c.get("name"), c.get("result")) if m == "tasks" else (m, c) for m, c in chunks
        ]
        return [
            tasks(graph.stream({"foo": 0}, stream_mode=modes)),
            tasks(graph.invoke({"foo": 0}, stream_mode=modes)),
            graph.invoke({"foo": 0}),
        ]

    return Scenario(graph, mode="script", script=script)


def _batches(state: list, writes: list) -> list:
    """A batch reducer that shows how the writes came: one entry per call."""
    return [*state, sorted(writes)]


def _extend(state: list, writes: list) -> list:
    """A batch reducer that gives the same state however the writes are batched
    (LangGraph rebuilds a DeltaChannel's history in batches of its own)."""
    return [*state, *(item for write in writes for item in write)]


def _delta_state(reducer):
    # LangGraph's own channel object in both runs: graphpool accepts it as a
    # reducer that takes a step's writes at once
    from langgraph.channels.delta import DeltaChannel

    class Batches(TypedDict, total=False):
        seen: Annotated[list, DeltaChannel(reducer)]
        n: int

    return Batches


@case()
def case_delta_channel_reducer_takes_a_steps_writes_at_once(lib):
    g = lib.StateGraph(_delta_state(_batches))
    g.add_node("fan", lambda s: {"n": 3})
    g.add_node("w", lambda s: {"seen": [s["i"]]})
    g.add_node("after", lambda s: {"seen": ["after"], "n": len(s["seen"])})
    g.add_edge(lib.START, "fan")
    g.add_conditional_edges("fan", lambda s: [lib.Send("w", {"i": i}) for i in range(s["n"])])
    g.add_edge("w", "after")
    return Scenario(g.compile(), {"n": 0})


@case()
def case_delta_channel_across_turns_and_time_travel(lib):
    g = lib.StateGraph(_delta_state(_extend))
    g.add_node("reply", lambda s: {"seen": [f"reply{len(s['seen'])}"]})
    g.add_edge(lib.START, "reply")
    graph = g.compile(checkpointer=lib.MemorySaver())

    def script(graph):
        config = {"configurable": {"thread_id": "t"}}
        turns = [graph.invoke({"seen": [f"in{i}"]}, config) for i in range(3)]
        first = next(s for s in graph.get_state_history(config) if len(s.values["seen"]) == 2)
        travelled = graph.invoke({"seen": ["again"]}, first.config)
        history = [(s.metadata["source"], s.values) for s in graph.get_state_history(config)]
        return {"turns": turns, "travelled": travelled, "history": history}

    return Scenario(graph, mode="script", script=script)
