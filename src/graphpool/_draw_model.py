"""The parts of a drawing: its nodes and edges, and what a renderer reads of a graph.

Below :mod:`graphpool._draw` and its renderers (``_draw_text``, ``_draw_xray``,
``_graph_png``), so that they and the drawable graph that calls them import each
other in one direction only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

__all__ = ["DrawEdge", "DrawNode", "Drawing"]


@dataclasses.dataclass(frozen=True)
class DrawNode:
    """A node of the drawing: its id (the node name), the function, its metadata."""

    id: str
    name: str
    data: Any = None
    metadata: Mapping[str, Any] | None = None


class DrawEdge(NamedTuple):
    """An edge of the drawing; ``conditional`` edges are drawn dotted, ``data`` is the label.

    A named tuple with the fields of langchain-core's ``Edge``, so the two compare equal.
    """

    source: str
    target: str
    data: str | None = None
    conditional: bool = False


class Drawing(Protocol):
    """What a renderer reads of a graph (a ``_draw.DrawableGraph``)."""

    nodes: dict[str, DrawNode]
    edges: list[DrawEdge]
