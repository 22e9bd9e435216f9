"""``graphpool.prebuilt``: ready-made nodes for agents, as ``langgraph.prebuilt``.

Needs langchain-core (``pip install 'graphpool[messages]'``).
"""

from .tool_node import ToolInvocationError, ToolNode, tools_condition

__all__ = ["ToolInvocationError", "ToolNode", "tools_condition"]
