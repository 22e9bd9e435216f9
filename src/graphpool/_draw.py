"""``graph.get_graph()``: a drawable view of a compiled graph, and its Mermaid text.

:class:`DrawableGraph` has the nodes and edges LangGraph's ``get_graph()`` shows
(found by :mod:`graphpool._shape`) and writes the same Mermaid text as
``langchain_core``'s ``Graph.draw_mermaid()`` for them: node ids with unsafe
characters escaped, ``__start__``/``__end__`` as stadium shapes with the
``first``/``last`` classes, dotted edges for declared routes with their
``path_map`` labels, the YAML front matter and the ``classDef`` lines.

Pictures: :meth:`DrawableGraph.draw_png` draws the graph offline with matplotlib
(``graphpool[plot]``); :meth:`DrawableGraph.draw_mermaid_png` renders the Mermaid
text with the mermaid-cli program ``mmdc`` when it is on ``PATH``.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Mapping
from typing import Any

from ._draw_model import DrawEdge, DrawNode
from ._shape import Shape

__all__ = ["DrawEdge", "DrawNode", "DrawableGraph", "NodeStyles"]

_MARKDOWN = ("*", "_", "`")
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_LABEL_ESCAPES = {c: f"#{ord(c)};" for c in '[](){}"<>|'}


@dataclasses.dataclass(frozen=True)
class NodeStyles:
    """Mermaid ``classDef`` styles of ordinary, first and last nodes (LangGraph's defaults)."""

    default: str = "fill:#f2f0ff,line-height:1.2"
    first: str = "fill-opacity:0"
    last: str = "fill:#bfb6fc"


class DrawableGraph:
    """Nodes and edges of a compiled graph, as ``CompiledStateGraph.get_graph()`` returns them.

    Attributes:
        nodes: ``{id: DrawNode}`` in LangGraph's order: ``__start__``, the nodes
            in the order they were added, ``__end__``.
        edges: the drawn edges, in drawing order.
    """

    def __init__(self, nodes: Mapping[str, DrawNode], edges: list[DrawEdge]) -> None:
        self.nodes = dict(nodes)
        self.edges = list(edges)

    @classmethod
    def from_shape(
        cls,
        shape: Shape,
        specs: Mapping[str, Any],
        before: Collection[str] = (),
        after: Collection[str] = (),
    ) -> DrawableGraph:
        """The drawing of ``shape``; ``before``/``after`` are the compiled graph's
        breakpoints, drawn as LangGraph draws them (which is not at all for ``"*"``)."""
        nodes = {}
        for name in shape.nodes:
            spec = specs.get(name)
            fn = spec.callee.fn if spec is not None else None
            metadata = dict(spec.metadata or {}) if spec is not None else {}
            if spec is not None and spec.defer:
                metadata["defer"] = True  # as LangGraph shows it
            pauses = [
                when
                for when, nodes_ in (("before", before), ("after", after))
                if spec is not None and nodes_ != "*" and name in nodes_
            ]
            if pauses:
                metadata["__interrupt"] = ",".join(pauses)
            tools = getattr(fn, "tools_by_name", None)
            if isinstance(tools, Mapping) and tools:
                metadata["__tools"] = list(tools)
            nodes[name] = DrawNode(name, name, fn, metadata or None)
        edges = [DrawEdge(s, t, label, cond) for s, t, label, cond in shape.edges]
        return cls(nodes, edges)

    def __repr__(self) -> str:
        return f"<DrawableGraph nodes={len(self.nodes)} edges={len(self.edges)}>"

    def first_node(self) -> DrawNode | None:
        """The only node no edge leads to, or None if there is not exactly one."""
        targets = {e.target for e in self.edges}
        found = [n for n in self.nodes.values() if n.id not in targets]
        return found[0] if len(found) == 1 else None

    def last_node(self) -> DrawNode | None:
        """The only node no edge leaves, or None if there is not exactly one."""
        sources = {e.source for e in self.edges}
        found = [n for n in self.nodes.values() if n.id not in sources]
        return found[0] if len(found) == 1 else None

    # -- text ----------------------------------------------------------------------

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        """The graph as LangChain's ``Graph.to_json()`` document (see ``_draw_text``)."""
        from ._draw_text import to_json

        return to_json(self)

    def draw_ascii(self) -> str:
        """The graph as ASCII art, as LangGraph draws it (needs langchain-core and grandalf)."""
        from ._draw_text import draw_ascii

        return draw_ascii(self)

    def print_ascii(self) -> None:
        """Print :meth:`draw_ascii`."""
        print(self.draw_ascii())

    # -- Mermaid -----------------------------------------------------------------

    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: Any = "linear",
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        frontmatter_config: Mapping[str, Any] | None = None,
    ) -> str:
        """The graph as Mermaid flowchart text, as LangGraph writes it for the same graph.

        Args:
            with_styles: include the front matter, node lines and ``classDef`` lines.
            curve_style: Mermaid's edge curve (a name, or LangChain's ``CurveStyle``).
            node_colors: ``classDef`` styles (:class:`NodeStyles`).
            wrap_label_n_words: break edge labels after this many words.
            frontmatter_config: more Mermaid configuration for the front matter.
        """
        curve = getattr(curve_style, "value", curve_style)
        out = []
        if with_styles:
            given = dict(frontmatter_config or {})
            config = dict(given.get("config") or {})
            config["flowchart"] = {**(config.get("flowchart") or {}), "curve": curve}
            out.append("---\n" + _yaml({**given, "config": config}) + "---\n")
        out.append("graph TD;\n")
        first, last = self.first_node(), self.last_node()
        if any(":" in key for key in self.nodes):  # get_graph(xray=True): subgraph blocks
            from ._draw_xray import mermaid_body

            out.append(
                mermaid_body(
                    self.nodes,
                    self.edges,
                    lambda node: _node_line(node, first, last),
                    lambda e: (
                        f"{_safe_id(e.source)}{_arrow(e, wrap_label_n_words)}{_safe_id(e.target)};"
                    ),
                    with_styles,
                )
            )
        else:
            if with_styles:
                for node in self.nodes.values():
                    out.append(f"\t{_node_line(node, first, last)}\n")
            plain = [e for e in self.edges if e.source != e.target]
            loops = [e for e in self.edges if e.source == e.target]  # LangChain writes them last
            for edge in plain + loops:
                out.append(f"\t{_safe_id(edge.source)}{_arrow(edge, wrap_label_n_words)}")
                out.append(f"{_safe_id(edge.target)};\n")
        if with_styles:
            for name, style in dataclasses.asdict(node_colors or NodeStyles()).items():
                out.append(f"\tclassDef {name} {style}\n")
        return "".join(out)

    def draw_mermaid_png(
        self,
        *,
        curve_style: Any = "linear",
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        output_file_path: str | None = None,
        draw_method: Any = None,
        background_color: str | None = "white",
        padding: int = 10,
        max_retries: int = 1,
        retry_delay: float = 1.0,
        frontmatter_config: Mapping[str, Any] | None = None,
        base_url: str | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> bytes:
        """Render :meth:`draw_mermaid` to PNG with mermaid-cli (``mmdc`` on ``PATH``).

        Takes LangGraph's arguments. LangGraph renders through the mermaid.ink web
        service (or pyppeteer); graphpool renders offline with ``mmdc`` (``npm install
        -g @mermaid-js/mermaid-cli``, which brings a headless Chromium), so
        ``draw_method``, ``padding``, ``max_retries``, ``retry_delay``, ``base_url``
        and ``proxies`` have no effect. Without ``mmdc``, use :meth:`draw_png`.

        Raises:
            MissingRendererError: ``mmdc`` is not installed.
            RuntimeError: ``mmdc`` failed (its message included).
        """
        from .errors import MissingRendererError

        mmdc = shutil.which("mmdc")
        if mmdc is None:
            raise MissingRendererError(
                "draw_mermaid_png() needs the mermaid-cli program 'mmdc' on PATH "
                "(npm install -g @mermaid-js/mermaid-cli); graphpool renders offline and "
                "does not call mermaid.ink. draw_png() draws the graph with matplotlib "
                "instead (pip install 'graphpool[plot]')."
            )
        text = self.draw_mermaid(
            curve_style=curve_style,
            node_colors=node_colors,
            wrap_label_n_words=wrap_label_n_words,
            frontmatter_config=frontmatter_config,
        )
        with tempfile.TemporaryDirectory() as tmp:
            source, target = os.path.join(tmp, "graph.mmd"), os.path.join(tmp, "graph.png")
            with open(source, "w", encoding="utf-8") as f:
                f.write(text)
            done = subprocess.run(
                [mmdc, "-i", source, "-o", target, "-b", background_color or "transparent"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if done.returncode != 0 or not os.path.exists(target):
                from .errors import RenderError

                raise RenderError(f"mmdc failed: {done.stderr.strip() or done.stdout.strip()}")
            with open(target, "rb") as f:
                data = f.read()
        if output_file_path is not None:
            with open(output_file_path, "wb") as f:
                f.write(data)
        return data

    def draw_png(self, output_file_path: str | None = None) -> bytes:
        """Draw the graph offline with matplotlib (``graphpool[plot]``); returns PNG bytes.

        A layered picture of the same nodes and edges (dotted: declared routes),
        not a Mermaid rendering.

        Raises:
            ImportError: matplotlib is missing (names the extra).
        """
        from ._graph_png import draw_png

        data = draw_png(self)
        if output_file_path is not None:
            with open(output_file_path, "wb") as f:
                f.write(data)
        return data


def _safe_id(name: str) -> str:
    """Mermaid-safe node id: characters outside ``[A-Za-z0-9_-]`` become ``\\<hex>``."""
    return "".join(c if c in _SAFE else "\\" + format(ord(c), "x") for c in name)


def _escape(text: str) -> str:
    text = text.replace("#", "#35;")
    for char, entity in _LABEL_ESCAPES.items():
        text = text.replace(char, entity)
    return text


def _metadata_line(key: str, value: Any) -> str | None:
    scalars = (str, int, float, bool)
    if isinstance(value, scalars):
        text = str(value)
    elif isinstance(value, (list, tuple, set)) and all(isinstance(v, scalars) for v in value):
        items = [str(v) for v in value]
        text = ", ".join(sorted(items) if isinstance(value, set) else items)
    else:
        return None
    return _escape(f"{key} = {text}")


def _node_line(node: DrawNode, first: DrawNode | None, last: DrawNode | None) -> str:
    name = node.name.rsplit(":", 1)[-1]  # a subgraph's node (xray) is labelled by its own name
    label = f"<p>{name}</p>" if name.startswith(_MARKDOWN) and name.endswith(_MARKDOWN) else name
    lines = [line for k, v in (node.metadata or {}).items() if (line := _metadata_line(k, v))]
    if lines:
        label += "<hr/><small><em>" + "\n".join(lines) + "</em></small>"
    if last is not None and node.id == last.id:
        return f"{_safe_id(node.id)}([{label}]):::last"
    if first is not None and node.id == first.id:
        return f"{_safe_id(node.id)}([{label}]):::first"
    return f"{_safe_id(node.id)}({label})"


def _arrow(edge: DrawEdge, wrap: int) -> str:
    if edge.data is None:
        return " -.-> " if edge.conditional else " --> "
    text = str(edge.data)
    words = text.split()
    if len(words) > wrap:
        text = "&nbsp<br>&nbsp".join(
            " ".join(words[i : i + wrap]) for i in range(0, len(words), wrap)
        )
    return f" -. &nbsp;{text}&nbsp; .-> " if edge.conditional else f" -- &nbsp;{text}&nbsp; --> "


# -- a little YAML, for the front matter (keys sorted, block style, as PyYAML's dump) --

_YAML_WORDS = frozenset(
    "y n yes no on off true false null ~ Y N YES NO ON OFF TRUE FALSE NULL "
    "Yes No On Off True False Null".split()
)


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if _plain_ok(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _plain_ok(text: str) -> bool:
    if not text or text in _YAML_WORDS or text != text.strip():
        return False
    if text[0] in "-?:,[]{}#&*!|>'\"%@`" or ": " in text or " #" in text:
        return False
    try:
        float(text)
    except ValueError:
        return all(c.isprintable() for c in text)
    return False


def _yaml(data: Mapping[str, Any], indent: int = 0) -> str:
    out = []
    pad = " " * indent
    for key in sorted(data):
        value = data[key]
        if isinstance(value, Mapping) and value:
            out.append(f"{pad}{_yaml_scalar(key)}:\n{_yaml(value, indent + 2)}")
        elif isinstance(value, (list, tuple)) and value:
            items = "".join(f"{pad}- {_yaml_scalar(v)}\n" for v in value)
            out.append(f"{pad}{_yaml_scalar(key)}:\n{items}")
        else:
            empty = "{}" if isinstance(value, Mapping) else "[]"
            shown = empty if isinstance(value, (Mapping, list, tuple)) else _yaml_scalar(value)
            out.append(f"{pad}{_yaml_scalar(key)}: {shown}\n")
    return "".join(out)
