"""Layers only point down: no module of ``src/graphpool`` imports itself back through others.

Walks every module with ``ast`` and reads every import it makes: at the top, under
``TYPE_CHECKING``, inside functions; relative and absolute. A lazy or type-only import
that closes a loop still ties the modules together (the developer guide counts it
too), so the test fails on any import cycle, naming its modules and the imports
that tie them.

``import a.b`` ties to ``a.b`` and ``from a import b`` to ``a.b`` when that is a
module, else to ``a``; a package's ``__init__`` that Python runs first is not
counted, as it is not what the importing module asked for.
"""

from __future__ import annotations

import ast
from pathlib import Path

import graphpool

PACKAGE = Path(graphpool.__file__).parent


def modules(package: Path) -> dict[str, Path]:
    """Every module under ``package`` by its dotted name (a package by its own)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _known(name: str, known: dict[str, Path]) -> str | None:
    """``name``, or its longest prefix that is a module of the tree."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in known:
            return ".".join(parts)
        parts.pop()
    return None


def imports(name: str, known: dict[str, Path]) -> set[str]:
    """The modules of the tree that module ``name`` imports, anywhere in its code."""
    path = known[name]
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    wanted: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                wanted.append(sub if sub in known else source)
    found = {_known(target, known) for target in wanted}
    return {target for target in found if target is not None and target != name}


def cycles(package: Path) -> list[list[str]]:
    """The import cycles of ``package``: each a sorted list of the modules that
    reach each other through imports (a strongly connected component of two or more)."""
    known = modules(package)
    graph = {name: imports(name, known) for name in known}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for target in graph[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    reached = {name: reach(name) for name in graph}
    groups = {
        frozenset([name, *(other for other in reached[name] if name in reached[other])])
        for name in graph
        if name in reached[name]
    }
    return sorted(sorted(group) for group in groups)


def _described(package: Path, group: list[str]) -> str:
    known = modules(package)
    ties = [
        f"    {name} -> {target}"
        for name in group
        for target in sorted(imports(name, known))
        if target in group
    ]
    return f"  {len(group)} modules: {', '.join(group)}\n" + "\n".join(ties)


def test_graphpool_has_no_import_cycle() -> None:
    found = cycles(PACKAGE)
    assert not found, "import cycles (a lower module imports a higher one back):\n" + "\n".join(
        _described(PACKAGE, group) for group in found
    )


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_walk_sees_type_only_lazy_relative_and_absolute_imports(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .top import Top\n",
            "pkg/top.py": "from .mid import helper\n",
            "pkg/mid.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.sub import low\n"
                "def helper():\n    from .sub import low\n"
            ),
            "pkg/sub/__init__.py": "",
            "pkg/sub/low.py": "def f():\n    from .. import top\n",
            "pkg/sub/alone.py": "import pkg.mid\n",
        },
    )
    known = modules(package)
    assert imports("pkg.sub.low", known) == {"pkg.top"}
    assert imports("pkg.mid", known) == {"pkg.sub.low"}
    assert imports("pkg.sub.alone", known) == {"pkg.mid"}
    assert cycles(package) == [["pkg.mid", "pkg.sub.low", "pkg.top"]]


def test_two_modules_that_import_each_other_are_a_cycle(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from .b import B\nclass A: ...\n",
            "pkg/b.py": "class B:\n    def a(self):\n        from pkg.a import A\n",
            "pkg/c.py": "from . import a, b\n",
        },
    )
    assert cycles(package) == [["pkg.a", "pkg.b"]]
    assert "pkg.a -> pkg.b" in _described(package, ["pkg.a", "pkg.b"])
