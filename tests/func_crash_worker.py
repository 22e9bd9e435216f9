"""The process the functional-API crash test kills: an entrypoint over five tasks.

    python func_crash_worker.py DB THREAD_ID EFFECTS_FILE crash|resume|clean

The entrypoint (on a SQLite saver) starts tasks t0..t4 at once and sums their
results. Every task appends its name to EFFECTS_FILE. In ``crash`` mode t4
writes ``t4-started`` and then waits for a file that never appears, so the test
can SIGKILL the process once t0..t3 have finished and their results are saved.
``resume`` continues the thread with ``invoke(None, config)``; ``clean`` runs a
fresh thread. Both print the result as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from graphpool.checkpoint.sqlite import SqliteSaver
from graphpool.func import entrypoint, task


def build(effects: str, mode: str, saver):
    def record(name: str) -> None:
        with open(effects, "a") as f:
            f.write(name + "\n")

    @task
    def work(i: int) -> int:
        record(f"t{i}")
        if i == 4 and mode == "crash":
            record("t4-started")
            never = effects + ".never"
            deadline = time.monotonic() + 60
            while not os.path.exists(never):  # the test kills us before this ends
                if time.monotonic() > deadline:
                    sys.exit(3)
                time.sleep(0.01)
        return 10**i

    @entrypoint(checkpointer=saver)
    def total(n: int) -> int:
        return sum(f.result() for f in [work(i) for i in range(n)])

    return total


def main() -> None:
    dsn, thread_id, effects, mode = sys.argv[1:5]
    flow = build(effects, mode, SqliteSaver(dsn))
    config = {"configurable": {"thread_id": thread_id}}
    result = flow.invoke(None if mode == "resume" else 5, config)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
