"""A supervisor and two agent subgraphs, all on one shared ThreadPool.

The supervisor routes the request to a researcher agent, then to a writer
agent, then ends. Each agent is its own compiled graph added as a node (a
subgraph). The researcher fans out to three search tools at once with ``Send``.
The subgraphs' tasks run on the supervisor's pool, under the same run: the
trace shows them on the pool's workers, and ``stream(..., subgraphs=True)``
tags their chunks with the agent's namespace.
"""

from __future__ import annotations

import operator
import time
from typing import Annotated, TypedDict

from graphpool import END, START, Command, Send, StateGraph, ThreadPool, Trace

TOPICS = ("pools", "graphs", "agents")


class Team(TypedDict):
    request: str
    findings: Annotated[list, operator.add]
    draft: str


# -- the researcher: plan, search every topic at once, report ----------------------


class Found(TypedDict):  # what the researcher hands back
    findings: Annotated[list, operator.add]


def plan(state: Team) -> dict:
    return {}


def fan_out(state: Team) -> list[Send]:
    return [Send("search", {"topic": topic}) for topic in TOPICS]


def search(packet: dict) -> dict:
    time.sleep(0.1)  # a slow tool call: the three overlap on the pool
    return {"findings": [f"{packet['topic']} are useful"]}


def report(state: Team) -> dict:
    return {"findings": [f"{len(state['findings'])} topics checked"]}


researcher = StateGraph(Team, output_schema=Found)
researcher.add_node("plan", plan)
researcher.add_node("search", search)
researcher.add_node("report", report)
researcher.add_edge(START, "plan")
researcher.add_conditional_edges("plan", fan_out, ["search"])
researcher.add_edge("search", "report")

# -- the writer: draft from the findings, then polish ------------------------------


def draft(state: Team) -> dict:
    return {"draft": "; ".join(sorted(state["findings"]))}


def polish(state: Team) -> dict:
    return {"draft": state["draft"].capitalize() + "."}


class Written(TypedDict):  # what the writer hands back
    draft: str


writer = StateGraph(Team, output_schema=Written)
writer.add_node("draft", draft)
writer.add_node("polish", polish)
writer.add_edge(START, "draft")
writer.add_edge("draft", "polish")

# -- the supervisor ----------------------------------------------------------------


def supervisor(state: Team) -> Command:
    if not state["findings"]:
        return Command(goto="researcher")
    if not state["draft"]:
        return Command(goto="writer")
    return Command(goto=END)


def build(pool: ThreadPool):
    team = StateGraph(Team)
    team.add_node("supervisor", supervisor, destinations=("researcher", "writer", END))
    team.add_node("researcher", researcher.compile())
    team.add_node("writer", writer.compile())
    team.add_edge(START, "supervisor")
    team.add_edge("researcher", "supervisor")
    team.add_edge("writer", "supervisor")
    return team.compile(pool=pool)


def main() -> None:
    pool = ThreadPool(max_workers=4, name="team")
    try:
        graph = build(pool)
        trace = Trace()
        start = {"request": "why pools?", "findings": [], "draft": ""}
        result = graph.invoke(start, config={"trace": trace})
        print(f"draft: {result['draft']}")
        print(f"findings: {result['findings']}")
        agents = {"search", "report", "draft", "polish"}
        workers = sorted({a.worker for a in trace.attempts if a.node in agents})
        print(f"subgraph tasks ran on: {workers}")
        spaces = []
        for namespace, _chunk in graph.stream(start, subgraphs=True):
            name = namespace[0].split(":")[0] if namespace else "supervisor graph"
            if name not in spaces:
                spaces.append(name)
        print(f"stream namespaces: {spaces}")
    finally:
        pool.shutdown()


if __name__ == "__main__":
    main()
