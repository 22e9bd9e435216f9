"""One langchain-core callback run per graph run and per node, as LangGraph reports them.

Loaded only for a run whose config has ``callbacks`` while langchain-core is
loaded (a LangSmith or Langfuse tracer, a ``BaseCallbackHandler``); a run
without callbacks never reaches this module.

* the run is a chain run named ``config["run_name"]`` or the graph's name (with
  ``config["run_id"]`` if given), its input the run's input, its output the
  final state (or its error);
* each task attempt is a child chain run named after its node, tagged
  ``graph:step:N``, with the ``langgraph_*`` metadata, its input the node's
  input, its output the node's return value (or its error);
* what the node calls (a chat model, a tool, a subgraph) gets the node run's
  child callbacks in its config, so a tracer shows run > node > model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ._lc import require

require("langchain_core.callbacks", "callbacks in a run's config")

from langchain_core.runnables.config import get_callback_manager_for_config  # noqa: E402

from ._constants import START  # noqa: E402
from ._context import CURRENT  # noqa: E402
from ._observe import RunObserver  # noqa: E402
from .errors import InternalError  # noqa: E402

__all__ = ["TRACED", "GraphCallbacks", "attach"]

TRACED = "graphpool_traced"
"""Set on a callback manager whose holder already reports the graph's runs
(``GraphRunnable.astream``): the run then opens none of its own."""


class GraphCallbacks(RunObserver):
    """The callback runs of one graph run (an observer for its start and end)."""

    def __init__(self, config: Mapping[str, Any], name: str, input: Any) -> None:
        self.config = config
        self.name = config.get("run_name") or name
        self.input = input
        self.run: Any = None
        self.core: Any = None  # the core Run, for the final state

    # -- the graph run (observer hooks, on the driving thread) -----------------------

    def on_run_start(self, run_id: str) -> None:
        manager = get_callback_manager_for_config(dict(self.config))  # type: ignore[arg-type]
        self.run = manager.on_chain_start(
            None, self.input, name=self.name, run_id=self.config.get("run_id")
        )

    def on_run_end(self, run_id: str, error: BaseException | None) -> None:
        run, self.run = self.run, None
        if run is None:
            return
        if error is None:
            state = getattr(self.core, "state", None)
            run.on_chain_end(state.output() if state is not None else {})
        else:
            run.on_chain_error(error)

    # -- node runs (in the task's thread) -------------------------------------------

    def task_started(self, job: Any) -> Any:
        """Open the chain run of one task attempt; its run manager."""
        task = job.task
        if self.run is None or task.node == START:
            return None
        tag = f"graph:step:{task.step}"
        manager = self.run.get_child(tag)
        manager.tags = [tag, *(t for t in manager.tags if t != tag)]  # LangGraph's order
        metadata = {**job.config["metadata"]}  # the node's own, as its config has it
        metadata.pop("graphpool_run_id", None)
        if task.id:
            metadata["langgraph_checkpoint_ns"] = f"{task.node}:{task.id}"
        manager.add_metadata(metadata)
        return manager.on_chain_start(None, task.input, name=task.node)

    @staticmethod
    def task_ended(job: Any, run: Any) -> None:
        """Close a task attempt's chain run with its outcome."""
        outcome = job.outcome
        if outcome is None:
            run.on_chain_error(InternalError("a task attempt ended with no outcome"))
        elif outcome.error is not None:
            run.on_chain_error(outcome.error)
        else:
            run.on_chain_end(outcome.result[0])

    @staticmethod
    def bind(config: dict[str, Any]) -> None:
        """Give a node's config its task run's child callbacks (if it has one)."""
        run = getattr(CURRENT.get(), "lc_run", None)
        if run is not None:
            config["callbacks"] = run.get_child()


def attach(options: Any, name: str, input: Any) -> Any:
    """``options`` (a ``RunOptions``) with the run's callback runs, or unchanged when
    its callbacks already report the graph (``GraphRunnable.astream``)."""
    if getattr(options.config.get("callbacks"), TRACED, False):
        return options
    runs = GraphCallbacks(options.config, name, input)
    return dataclasses.replace(options, observer=options.observer.adding(runs), callbacks=runs)
