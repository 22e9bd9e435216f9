"""A trace laid out in time: its lanes (one per worker, :func:`assign_lanes`, which
the Chrome trace export of ``_trace`` shares), and its Gantt chart, one bar per
task attempt (matplotlib).

matplotlib is an optional extra (``pip install 'graphpool[plot]'``), imported
only here, when a chart is drawn. The chart is drawn on a bare ``Figure`` (no
pyplot), so it works from any thread and leaves no global state behind.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ._observe import TaskAttempt

__all__ = ["assign_lanes", "save_timeline"]

_OUTCOME_STYLE: dict[str, dict[str, Any]] = {
    "succeeded": {"hatch": None, "edgecolor": "#333333", "linewidth": 0.8},
    "retried": {"hatch": "///", "edgecolor": "#b26a00", "linewidth": 1.5},
    "failed": {"hatch": "xx", "edgecolor": "#c00000", "linewidth": 2.0},
}


def assign_lanes(attempts: Iterable[TaskAttempt]) -> list[tuple[str, TaskAttempt]]:
    """Pair each attempt with its lane: its worker, or ``worker #n`` where attempts overlap.

    Lanes of one worker are filled greedily in start order, so a thread's lane
    never overlaps and an event loop's concurrent awaits fan out over ``#2``, ``#3``.
    """
    busy_until: dict[str, list[float]] = {}
    out = []
    for a in sorted(attempts, key=lambda a: (a.start, a.end)):
        ends = busy_until.setdefault(a.worker, [])
        for i, end in enumerate(ends):
            if end <= a.start:
                ends[i] = a.end
                break
        else:
            ends.append(a.end)
            i = len(ends) - 1
        out.append((a.worker if i == 0 else f"{a.worker} #{i + 1}", a))
    return out


def figure_class() -> Any:
    """matplotlib's ``Figure``; ImportError naming the ``plot`` extra if it is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            "Drawing a timeline needs matplotlib: pip install 'graphpool[plot]'."
        ) from exc
    return Figure


def save_timeline(
    attempts: Sequence[TaskAttempt],
    path: str | os.PathLike[str],
    *,
    steps: Sequence[tuple[str, int, float]] = (),
    title: str | None = None,
) -> None:
    """Draw ``attempts`` as a Gantt chart and save it as PNG (or any format by suffix).

    Bars are labelled with the node name; retried attempts are hatched,
    failed ones outlined in red. Dashed lines mark the start of each superstep.

    Raises:
        ImportError: matplotlib is missing (names the extra to install).
        InvalidConfigError: there is nothing to draw (a ``ValueError``).
    """
    if not attempts:
        from .errors import InvalidConfigError

        raise InvalidConfigError("The trace has no task attempts to draw.")
    figure = figure_class()
    lanes = assign_lanes(attempts)
    names = sorted({lane for lane, _ in lanes}, key=_natural)
    origin = min([a.start for a in attempts] + [t for _, _, t in steps])
    span = max(max(a.end for a in attempts) - origin, 1e-6)
    first_start: dict[str, float] = {}
    for a in sorted(attempts, key=lambda a: a.start):
        first_start.setdefault(a.node, a.start)
    nodes = list(first_start)
    palette = [
        "#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
        "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5",
    ]  # fmt: skip
    color = {node: palette[i % len(palette)] for i, node in enumerate(nodes)}

    fig = figure(figsize=(9, 1.2 + 0.55 * len(names)), dpi=120)
    ax = fig.subplots()
    for lane, a in lanes:
        y = names.index(lane)
        start, width = a.start - origin, max(a.end - a.start, span / 500)
        style = _OUTCOME_STYLE[a.outcome]
        ax.barh(y, width, left=start, height=0.6, color=color[a.node], **style)
        label = a.node if a.attempt == 1 else f"{a.node} (try {a.attempt})"
        if width > span * 0.02 * (len(label) + 2):
            ax.text(start + width / 2, y, label, ha="center", va="center", fontsize=9)
        else:  # too narrow to hold its name: write it just after the bar
            ax.text(start + width + span * 0.005, y, label, ha="left", va="center", fontsize=9)
    for x, label in _step_marks(steps, origin, span):
        ax.axvline(x, color="#888888", linestyle="--", linewidth=0.8, zorder=0)
        ax.text(x, -0.55, f" {label}", fontsize=8, color="#555555", va="bottom")
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.set_ylim(len(names) - 0.5, -0.8)
    ax.set_xlim(0, span * 1.12)
    ax.set_xlabel("seconds since the first step began")
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    ax.set_title(title or f"{len(attempts)} task attempts on {len(names)} worker lanes")
    fig.tight_layout()
    fig.savefig(os.fspath(path))


def _natural(name: str) -> list[Any]:
    """Sort key putting ``worker_2`` before ``worker_10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _step_marks(
    steps: Sequence[tuple[str, int, float]], origin: float, span: float
) -> list[tuple[float, str]]:
    """One dashed line per step start; steps closer than 3% of the chart share a label."""
    marks: list[tuple[float, list[int]]] = []
    for _, step, at in sorted(steps, key=lambda s: s[2]):
        x = at - origin
        if marks and x - marks[-1][0] < span * 0.03:
            marks[-1][1].append(step)
        else:
            marks.append((x, [step]))
    return [
        (x, f"step {nums[0]}" if len(nums) == 1 else f"steps {nums[0]}-{nums[-1]}")
        for x, nums in marks
    ]
