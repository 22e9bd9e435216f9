"""``graphpool.prebuilt``: ready-made nodes for agents, as ``langgraph.prebuilt``.

Needs langchain-core (``pip install 'graphpool[messages]'``).
"""

from .tool_node import (
    InjectedState,
    InjectedStore,
    ToolCallRequest,
    ToolInvocationError,
    ToolNode,
    ToolRuntime,
    tools_condition,
)

__all__ = [
    "InjectedState",
    "InjectedStore",
    "ToolCallRequest",
    "ToolInvocationError",
    "ToolNode",
    "ToolRuntime",
    "tools_condition",
]
