"""A task call's langchain-core callback run, as LangGraph reports a pushed task.

When the node (or task call) that makes a call has callbacks in its config (a
tracer given in the run's config: its node run's child callbacks), the call
opens a chain run named after the task, its inputs the call's arguments by
parameter name (defaults applied), its output the call's return value, or its
error. Code inside the call gets the call run's child callbacks, so a tracer
shows run > entrypoint > task > what the task calls.

A call without callbacks in its config never loads langchain-core here.
"""

from __future__ import annotations

import inspect
from typing import Any

from .. import _lc

__all__ = ["close", "open_run"]


def open_run(call: Any, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Open ``call``'s chain run if its config has callbacks (and give its config the
    run's child callbacks); the run manager, or None."""
    config = call.config
    if not config or config.get("callbacks") is None or not _lc.loaded():
        return None
    from langchain_core.runnables.config import get_callback_manager_for_config

    manager = get_callback_manager_for_config(config)
    run = manager.on_chain_start(None, _inputs(func, args, kwargs), name=call.name)
    call.config = {**config, "callbacks": run.get_child()}
    return run


def close(run: Any, value: Any = None, error: BaseException | None = None) -> None:
    """Close a call's chain run with its return value or its error (None: no run)."""
    if run is None:
        return
    if error is None:
        run.on_chain_end(value)
    else:
        run.on_chain_error(error)


def _inputs(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """The call's arguments by parameter name, defaults applied (LangGraph's inputs)."""
    try:
        bound = inspect.signature(func).bind(*args, **kwargs)
    except (TypeError, ValueError):  # no signature, or arguments that do not fit it
        return {"args": args, "kwargs": kwargs}
    bound.apply_defaults()
    return dict(bound.arguments)
