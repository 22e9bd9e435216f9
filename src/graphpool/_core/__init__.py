"""The sans-I/O core: a run as a pure state machine (no threads, no clock, no I/O).

One module per responsibility of the spec's scheduler side:

* ``step``: which tasks a step runs, and what a node's return value means;
* ``collector``: the result collector (writes merged in LangGraph's order);
* ``failure``: the failure manager (timeouts, retries, giving up);
* ``pausing`` and ``interrupts``: ``interrupt()`` and breakpoints;
* ``records``: a run as checkpoint records and back, and the resume plan;
* ``run`` and ``eager``: the loop, as a generator of ``events``;
* ``task``: a task's named states and their transitions.

Nothing here imports the pools, the drivers or the compiled graph.
"""

from .eager import EagerRun
from .events import Abandon, Emit, Event, Launch, Observed, Outcome, Save, Wait
from .records import FRESH, ResumePlan
from .run import Clock, Run
from .task import Task, TaskState

__all__ = [
    "FRESH",
    "Abandon",
    "Clock",
    "EagerRun",
    "Emit",
    "Event",
    "Launch",
    "Observed",
    "Outcome",
    "ResumePlan",
    "Run",
    "Save",
    "Task",
    "TaskState",
    "Wait",
]
