"""``graphpool.graph``: the names ``langgraph.graph`` offers, for drop-in imports."""

from ._builder import StateGraph
from ._compiled import CompiledStateGraph
from ._constants import END, START

__all__ = ["END", "START", "CompiledStateGraph", "StateGraph"]
