"""Managed state keys: values the runtime fills in, as ``langgraph.managed``.

Declare a state key as :data:`RemainingSteps` or :data:`IsLastStep` and each
node that reads the state finds there how many steps the run may still take
before its ``recursion_limit`` (or whether this is its last one). Such a key is
not a channel: it is not saved, not returned by ``invoke``, and not written.
"""

from __future__ import annotations

from typing import Annotated, Any

__all__ = ["IsLastStep", "ManagedValue", "RemainingSteps", "RemainingStepsManager"]


class ManagedValue:
    """What a managed key holds, computed from the step a task runs in."""

    @staticmethod
    def get(remaining: int) -> Any:
        """The key's value for a task with ``remaining`` steps left (this one counts)."""
        raise NotImplementedError


class RemainingStepsManager(ManagedValue):
    """How many steps the run may still take, this one included."""

    @staticmethod
    def get(remaining: int) -> int:
        return remaining


class IsLastStepManager(ManagedValue):
    """Whether this step is the last the ``recursion_limit`` allows."""

    @staticmethod
    def get(remaining: int) -> bool:
        return remaining == 1


RemainingSteps = Annotated[int, RemainingStepsManager]
IsLastStep = Annotated[bool, IsLastStepManager]


def manager_of(typ: Any) -> type[ManagedValue] | None:
    """The manager a (stripped) state key type declares, or None."""
    for meta in getattr(typ, "__metadata__", ()):
        if isinstance(meta, type) and issubclass(meta, ManagedValue):
            return meta
    return None
