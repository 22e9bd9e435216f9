"""Names shared by the whole package."""

from __future__ import annotations

from typing import Final

START: Final = "__start__"
"""The virtual node a run begins at; edges from it pick the first nodes."""

END: Final = "__end__"
"""The virtual node a run ends at; routing to it triggers nothing."""

RESERVED_NAMES: Final = frozenset({START, END})

DEFAULT_RECURSION_LIMIT: Final = 10007
"""LangGraph 1.2's default ``recursion_limit``."""

LAUNCH, WAIT, EMIT, SAVE, ABANDON = 0, 1, 2, 3, 4
"""The scheduler's instruction codes (see ``_scheduler``)."""

INTERRUPT: Final = "__interrupt__"
"""The key under which a run's interrupts are reported in stream chunks and results."""
