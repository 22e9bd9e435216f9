"""The process the crash test kills: a 10-step graph with a durable saver.

    python crash_worker.py sqlite|postgres DSN THREAD_ID EFFECTS_FILE crash|resume|clean

Steps 1-5 are a chain s1..s5; step 6 runs three branches b1, b2, b3 in
parallel; step 7 joins them (j); steps 8-10 are t8..t10. Every node appends its
name to EFFECTS_FILE (the side effect the test counts). In ``crash`` mode, b3
writes ``b3-started`` and then waits for a file that never appears, so the test
can SIGKILL the process while b1 and b2 have finished and b3 runs. ``resume``
continues the thread with ``invoke(None, config)``; ``clean`` runs a fresh
thread without interruption. Both print the final state as JSON.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
import sys
import time
from typing import Annotated, TypedDict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from graphpool import END, START, StateGraph


class State(TypedDict):
    log: Annotated[list, operator.add]
    total: Annotated[int, operator.add]


def build(effects: str, mode: str, saver):
    def record(name: str) -> None:
        with open(effects, "a") as f:
            f.write(name + "\n")

    def node(name: str, amount: int):
        def run(state: State) -> dict:
            record(name)
            if name == "b3" and mode == "crash":
                record("b3-started")
                never = effects + ".never"
                deadline = time.monotonic() + 60
                while not os.path.exists(never):  # the test kills us before this ends
                    if time.monotonic() > deadline:
                        sys.exit(3)
                    time.sleep(0.01)
            return {"log": [name], "total": amount}

        return run

    b = StateGraph(State)
    chain = ["s1", "s2", "s3", "s4", "s5"]
    for i, name in enumerate(chain, 1):
        b.add_node(name, node(name, i))
    for i, name in enumerate(["b1", "b2", "b3"], 1):
        b.add_node(name, node(name, 10 * i))
        b.add_edge("s5", name)
    b.add_node("j", node("j", 100))
    b.add_edge(["b1", "b2", "b3"], "j")
    tail = ["t8", "t9", "t10"]
    for i, name in enumerate(tail):
        b.add_node(name, node(name, 1000 * (i + 1)))
    b.add_edge(START, "s1")
    for left, right in itertools.pairwise(chain):
        b.add_edge(left, right)
    b.add_edge("j", "t8")
    b.add_edge("t8", "t9")
    b.add_edge("t9", "t10")
    b.add_edge("t10", END)
    return b.compile(checkpointer=saver)


def open_saver(backend: str, dsn: str):
    if backend == "sqlite":
        from graphpool.checkpoint.sqlite import SqliteSaver

        return SqliteSaver(dsn)
    from graphpool.checkpoint.postgres import PostgresSaver

    return PostgresSaver(dsn)


def main() -> None:
    backend, dsn, thread_id, effects, mode = sys.argv[1:6]
    saver = open_saver(backend, dsn)
    graph = build(effects, mode, saver)
    config = {"configurable": {"thread_id": thread_id}}
    if mode == "resume":
        result = graph.invoke(None, config)
    else:
        result = graph.invoke({"log": [], "total": 0}, config)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
