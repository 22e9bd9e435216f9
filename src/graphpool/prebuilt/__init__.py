"""``graphpool.prebuilt``: ready-made nodes for agents, as ``langgraph.prebuilt``.

Needs langchain-core (``pip install 'graphpool[messages]'``).
"""

from .chat_agent_executor import create_react_agent
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
    "create_react_agent",
    "tools_condition",
]
