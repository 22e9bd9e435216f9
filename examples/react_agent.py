"""A ReAct agent on graphpool: a chat model node and a tool node exchanging messages.

Runs offline: a scripted fake chat model from langchain-core stands in for a real
one (swap in e.g. ``ChatOpenAI(model=...)``). Needs ``pip install 'graphpool[messages]'``.
"""

import time

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool

from graphpool.graph import START, MessagesState, StateGraph
from graphpool.prebuilt import ToolNode, tools_condition


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    time.sleep(0.5)  # a slow API
    return f"sunny in {city}"


@tool
def population(city: str) -> str:
    """How many people live in a city."""
    time.sleep(0.5)
    return f"{city}: 2.1 million"


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):
        return self


tools = [weather, population]
model = ScriptedModel(
    messages=iter(
        [
            AIMessage(  # the model asks for both tools at once...
                "",
                tool_calls=[
                    {"name": "weather", "args": {"city": "Paris"}, "id": "call-1"},
                    {"name": "population", "args": {"city": "Paris"}, "id": "call-2"},
                ],
            ),
            AIMessage("Paris is sunny and has 2.1 million people."),  # ...then answers
        ]
    )
).bind_tools(tools)


def agent(state: MessagesState):
    return {"messages": [model.invoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_node("tools", ToolNode(tools))  # the calls run side by side on the pool
builder.add_edge(START, "agent")
builder.add_conditional_edges("agent", tools_condition)  # tools, or END
builder.add_edge("tools", "agent")
graph = builder.compile()

start = time.perf_counter()
result = graph.invoke({"messages": [("user", "Weather and population of Paris?")]})
for message in result["messages"]:
    print(f"{message.type:>5}: {message.content}")
print(f"took {time.perf_counter() - start:.2f} s (two 0.5 s tools, run at the same time)")
