from graphpool import StateGraph, END
from typing import TypedDict, Annotated
import time
import random
import operator

# ---------- 1. Define Shared State with Reducer ----------
class State(TypedDict):
    results: Annotated[list, operator.add]

# ---------- 2. Define Start and Parallel Tasks ----------
def start(state: State):
    return state

def worker_a(state: State):
    time.sleep(random.uniform(0.5, 1.5))
    return {"results": ["A"]}

def worker_b(state: State):
    time.sleep(random.uniform(0.5, 1.5))
    return {"results": ["B"]}

def worker_c(state: State):
    time.sleep(random.uniform(0.5, 1.5))
    return {"results": ["C"]}

def collect(state: State):
    return {"results": [f"Collected: {', '.join(sorted(state['results']))}"]}

# ---------- 3. Build Graph ----------
builder = StateGraph(State)

builder.add_node("start", start)
builder.add_node("A", worker_a)
builder.add_node("B", worker_b)
builder.add_node("C", worker_c)
builder.add_node("collect", collect)

builder.set_entry_point("start")

# Fan-out: start branches to all workers
builder.add_edge("start", "A")
builder.add_edge("start", "B")
builder.add_edge("start", "C")

# Fan-in: all workers converge to collect
builder.add_edge("A", "collect")
builder.add_edge("B", "collect")
builder.add_edge("C", "collect")

builder.add_edge("collect", END)

graph = builder.compile()

# ---------- 4. Execute with Worker Pool ----------
start = time.time()

result = graph.invoke({"results": []}, config={"max_workers": 3})

end = time.time()

print("Final State:", result)
print("Execution Time:", round(end - start, 2), "seconds")
