"""Offline picture of a graph: a layered drawing with matplotlib (``graphpool[plot]``).

LangGraph turns Mermaid text into a PNG through a web service; this machine-local
renderer instead lays the same nodes and edges out top to bottom: each node one
row below the furthest node that leads to it (edges that close a loop are drawn
curved and do not count), END on the last row. Declared routes are dotted and
labelled, as in the Mermaid picture.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ._constants import END, START

if TYPE_CHECKING:
    from ._draw_model import Drawing

__all__ = ["draw_png", "layers"]

_FILL = {START: "#ffffff", END: "#bfb6fc"}
_DEFAULT_FILL = "#f2f0ff"


def layers(graph: Drawing) -> dict[str, int]:
    """Row of each node: longest path from the roots over the edges that close no loop."""
    order = list(graph.nodes)
    succ: dict[str, list[str]] = {n: [] for n in order}
    for e in graph.edges:
        succ[e.source].append(e.target)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in succ[node]:
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = 2

    for node in order:
        if node not in state:
            visit(node)
    rank = dict.fromkeys(order, 0)
    for _ in order:  # relax until stable: at most one pass per node on a DAG
        changed = False
        for e in graph.edges:
            if (e.source, e.target) not in back and rank[e.target] < rank[e.source] + 1:
                rank[e.target] = rank[e.source] + 1
                changed = True
        if not changed:
            break
    if END in rank:
        rank[END] = max(r for n, r in rank.items() if n != END) + 1
    return rank


def _pyplot_free_figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("draw_png() needs matplotlib: pip install 'graphpool[plot]'.") from exc
    return Figure(**kwargs)


def draw_png(graph: Drawing) -> bytes:
    """PNG bytes of ``graph`` drawn in layers; see the module docstring."""
    rank = layers(graph)
    rows: dict[int, list[str]] = {}
    for node in graph.nodes:
        rows.setdefault(rank[node], []).append(node)
    pos: dict[str, tuple[float, float]] = {}
    for r, names in sorted(rows.items()):
        parents = {n: [pos[e.source][0] for e in graph.edges if e.target == n and e.source in pos]
                   for n in names}  # fmt: skip
        names.sort(key=lambda n: sum(parents[n]) / len(parents[n]) if parents[n] else 0.0)
        for i, name in enumerate(names):
            pos[name] = (i - (len(names) - 1) / 2, -float(r))
    width = max(len(v) for v in rows.values())
    fig = _pyplot_free_figure(figsize=(max(4.0, 2.2 * width), 1.0 + 1.1 * len(rows)), dpi=110)
    ax = fig.subplots()
    ax.set_axis_off()
    for e in graph.edges:
        (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
        upward = y2 >= y1
        # an edge that skips rows bows sideways, so it does not run through the nodes between
        bend = 0.5 if upward else (0.3 if y1 - y2 > 1 and x1 == x2 else 0.0)
        style = {
            "arrowstyle": "-|>",
            "color": "#444444",
            "linestyle": ":" if e.conditional else "-",
            "shrinkA": 14,
            "shrinkB": 14,
            "connectionstyle": f"arc3,rad={bend}",
        }
        if e.source == e.target:
            style["connectionstyle"] = "arc3,rad=2.5"
            x2 += 0.01
        ax.annotate("", xy=(x2, y2), xytext=(x1, y1), arrowprops=style)
        if e.data:
            # the middle of matplotlib's arc3 curve: half-way to its control point
            mid = ((x1 + x2) / 2 + bend * (y2 - y1) / 2, (y1 + y2) / 2 - bend * (x2 - x1) / 2)
            ax.text(*mid, e.data, fontsize=8, ha="center", va="center", color="#333333",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})  # fmt: skip
    for name, (x, y) in pos.items():
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=10,
            bbox={
                "boxstyle": "round,pad=0.4" if name in (START, END) else "square,pad=0.4",
                "fc": _FILL.get(name, _DEFAULT_FILL),
                "ec": "#555555",
            },
        )
    ax.set_xlim(-width / 2 - 0.3, width / 2 + 0.3)
    ax.set_ylim(-(len(rows) - 1) - 0.5, 0.5)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
