"""Message state: add_messages, MessagesState, RemoveMessage, Runnable nodes."""

import asyncio
import operator
from typing import Annotated, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

from .harness import Scenario, make_registry

CASES, case = make_registry()


def _say(text, **fields):
    return lambda state: {"messages": [AIMessage(text, **fields)]}


@case()
def case_messages_state_string_input_and_appends(lib):
    g = lib.StateGraph(lib.MessagesState)
    g.add_node("first", _say("one"))
    g.add_node("second", lambda s: {"messages": ("assistant", f"seen {len(s['messages'])}")})
    g.add_edge(lib.START, "first")
    g.add_edge("first", "second")
    return Scenario(g.compile(), {"messages": "hello"})


@case()
def case_messages_coerced_from_dicts_and_tuples(lib):
    def node(state):
        return {
            "messages": [
                {"role": "assistant", "content": "from a dict", "id": "d1"},
                ("user", "from a tuple"),
                {"role": "tool", "content": "tool says", "tool_call_id": "c1", "id": "t1"},
            ]
        }

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("node", node)
    g.add_edge(lib.START, "node")
    return Scenario(g.compile(), {"messages": [{"role": "user", "content": "q", "id": "q"}]})


@case()
def case_messages_replace_by_id(lib):
    g = lib.StateGraph(lib.MessagesState)
    g.add_node("draft", _say("draft", id="answer"))
    g.add_node("final", _say("final", id="answer"))
    g.add_edge(lib.START, "draft")
    g.add_edge("draft", "final")
    return Scenario(g.compile(), {"messages": [HumanMessage("q", id="q")]})


@case()
def case_messages_remove_message(lib):
    def prune(state):
        return {"messages": [RemoveMessage(id=m.id) for m in state["messages"][:-1]]}

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("talk", _say("reply", id="r"))
    g.add_node("prune", prune)
    g.add_edge(lib.START, "talk")
    g.add_edge("talk", "prune")
    return Scenario(g.compile(), {"messages": [HumanMessage("a", id="a"), HumanMessage("b")]})


@case()
def case_messages_remove_all(lib):
    def reset(state):
        return {
            "messages": [
                RemoveMessage(id=lib.REMOVE_ALL_MESSAGES),
                AIMessage("summary of everything", id="summary"),
            ]
        }

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("talk", _say("reply", id="r"))
    g.add_node("reset", reset)
    g.add_edge(lib.START, "talk")
    g.add_edge("talk", "reset")
    return Scenario(g.compile(), {"messages": [HumanMessage("a", id="a")]})


@case(expect="ValueError", graphpool_expect="InvalidUpdateError")  # a ReducerError: a ValueError
def case_messages_remove_unknown_id(lib):
    g = lib.StateGraph(lib.MessagesState)
    g.add_node("bad", lambda s: {"messages": [RemoveMessage(id="nope")]})
    g.add_edge(lib.START, "bad")
    return Scenario(
        g.compile(), {"messages": [HumanMessage("a", id="a")]}, error_mentions=("'nope'",)
    )


@case()
def case_messages_parallel_appends_in_node_order(lib):
    g = lib.StateGraph(lib.MessagesState)
    for name in ("zeta", "alpha", "mid"):
        g.add_node(name, _say(f"from {name}", id=name))
        g.add_edge(lib.START, name)
    g.add_node("join", lambda s: {"messages": [AIMessage(str(len(s["messages"])), id="n")]})
    g.add_edge(["zeta", "alpha", "mid"], "join")
    return Scenario(g.compile(), {"messages": [HumanMessage("go", id="go")]})


@case()
def case_messages_parallel_replace_same_id_last_writer_in_order_wins(lib):
    g = lib.StateGraph(lib.MessagesState)
    g.add_node("b", _say("from b", id="shared"))
    g.add_node("a", _say("from a", id="shared"))
    g.add_edge(lib.START, "a")
    g.add_edge(lib.START, "b")
    return Scenario(g.compile(), {"messages": []})


@case()
def case_messages_send_fan_out(lib):
    class Packet(TypedDict):
        topic: str

    def plan(state):
        return [lib.Send("write", {"topic": t}) for t in ("c", "a", "b")]

    def write(packet):
        return {"messages": [AIMessage(f"about {packet['topic']}", id=packet["topic"])]}

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("start", lambda s: None)
    g.add_node("write", write)
    g.add_edge(lib.START, "start")
    g.add_conditional_edges("start", plan)
    return Scenario(g.compile(), {"messages": [HumanMessage("topics", id="h")]})


@case()
def case_messages_command_update_and_goto(lib):
    def decide(state):
        return lib.Command(
            update={"messages": [AIMessage("routing", id="route")]},
            goto="tool",
        )

    def tool(state):
        return {"messages": [ToolMessage("done", tool_call_id="c1", id="tool")]}

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("decide", decide)
    g.add_node("tool", tool)
    g.add_edge(lib.START, "decide")
    return Scenario(g.compile(), {"messages": [HumanMessage("q", id="q")]})


@case()
def case_messages_state_subclass_with_extra_keys(lib):
    class State(lib.MessagesState):
        turns: Annotated[int, operator.add]
        summary: str

    def talk(state):
        return {"messages": [AIMessage(f"turn {state['turns']}")], "turns": 1}

    def route(state):
        return "talk" if state["turns"] < 3 else "summarise"

    g = lib.StateGraph(State)
    g.add_node("talk", talk)
    g.add_node("summarise", lambda s: {"summary": f"{len(s['messages'])} messages"})
    g.add_edge(lib.START, "talk")
    g.add_conditional_edges("talk", route, ["talk", "summarise"])
    return Scenario(g.compile(), {"messages": "hi", "turns": 0})


@case()
def case_messages_custom_key_with_add_messages(lib):
    class State(TypedDict):
        history: Annotated[list[AnyMessage], lib.add_messages]
        notes: Annotated[list, operator.add]

    g = lib.StateGraph(State)
    g.add_node("node", lambda s: {"history": [AIMessage("x", id="x")], "notes": ["n"]})
    g.add_edge(lib.START, "node")
    return Scenario(g.compile(), {"history": [("user", "hi")], "notes": []})


@case()
def case_messages_pydantic_state(lib):
    class State(BaseModel):
        messages: Annotated[list[AnyMessage], lib.add_messages]
        step: int = 0

    def node(state):
        return {"messages": [AIMessage(f"step {state.step}", id="s")], "step": state.step + 1}

    g = lib.StateGraph(State)
    g.add_node("node", node)
    g.add_edge(lib.START, "node")
    return Scenario(g.compile(), {"messages": [HumanMessage("q", id="q")]})


@case()
def case_messages_openai_format_reducer(lib):
    class State(TypedDict):
        messages: Annotated[list[AnyMessage], lib.add_messages(format="langchain-openai")]

    def node(state):
        return {
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "block"}], "id": "u2"}
            ]
        }

    g = lib.StateGraph(State)
    g.add_node("node", node)
    g.add_edge(lib.START, "node")
    return Scenario(g.compile(), {"messages": [HumanMessage("plain", id="u1")]})


@case()
def case_messages_runnable_nodes(lib):
    reply = RunnableLambda(lambda s: {"messages": [AIMessage(f"n={len(s['messages'])}", id="r")]})
    chain = RunnableLambda(lambda s: s["messages"][-1].content) | RunnableLambda(
        lambda text: {"messages": [AIMessage(text.upper(), id="up")]}
    )
    g = lib.StateGraph(lib.MessagesState)
    g.add_node("reply", reply)
    g.add_node("shout", chain)
    g.add_edge(lib.START, "reply")
    g.add_edge("reply", "shout")
    return Scenario(g.compile(), {"messages": [HumanMessage("q", id="q")]})


@case()
def case_messages_runnable_route(lib):
    def route(state):
        return "long" if len(state["messages"]) > 1 else "short"

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("short", _say("short", id="s"))
    g.add_node("long", _say("long", id="l"))
    g.add_conditional_edges(lib.START, RunnableLambda(route), ["short", "long"])
    return Scenario(
        g.compile(), {"messages": [HumanMessage("a", id="a"), HumanMessage("b", id="b")]}
    )


@case()
def case_messages_async_nodes(lib):
    async def think(state):
        await asyncio.sleep(0.001)
        return {"messages": [AIMessage("thought", id="t")]}

    async def answer(state):
        return {"messages": [AIMessage(f"after {len(state['messages'])}")]}

    g = lib.StateGraph(lib.MessagesState)
    g.add_node("think", think)
    g.add_node("answer", answer)
    g.add_edge(lib.START, "think")
    g.add_edge("think", "answer")
    return Scenario(g.compile(), {"messages": "hi"}, mode="ainvoke")
