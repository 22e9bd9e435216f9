"""One error tree, used everywhere: library code raises graphpool's own exceptions.

Walks every module of ``src/graphpool`` with ``ast`` and fails on a ``raise`` of a
builtin exception class, outside a short allow-list of the places where Python's
protocols demand the builtin (``AttributeError`` from a module ``__getattr__``,
``NotImplementedError`` from an abstract method, ...). A user catching
``GraphpoolError`` then catches every mistake graphpool reports.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import graphpool

PACKAGE = Path(graphpool.__file__).parent

BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)

# (exception, enclosing function) pairs a protocol requires, anywhere in the package.
PROTOCOL = {
    ("AttributeError", "__getattr__"),  # module / class attribute lookup
    ("NotImplementedError", None),  # abstract methods and unsupported operations
    ("StopIteration", "__next__"),
    ("StopAsyncIteration", "__anext__"),
}

# Module-specific exceptions: each says why the builtin is the right error there.
ALLOWED = {
    # ImportError for a missing optional dependency, as every Python library raises it:
    # the message names the extra to install.
    ("_lc.py", "ImportError"),
    ("_graph_png.py", "ImportError"),
    ("_progress.py", "ImportError"),
    ("_timeline.py", "ImportError"),
    ("checkpoint/postgres.py", "ImportError"),
    ("store/postgres.py", "ImportError"),
    ("_pool/_ray.py", "ImportError"),
    ("_pool/_prometheus.py", "ImportError"),
    ("_runnable.py", "ImportError"),  # pydantic, for a graph's JSON schemas
    ("_resume_schema.py", "ImportError"),  # pydantic, for interrupt(response_schema=<type>)
    ("_draw_text.py", "ImportError"),  # grandalf, for draw_ascii() as LangGraph's
    ("_otel.py", "ImportError"),  # opentelemetry, for OpenTelemetryObserver
    ("server/_deps.py", "ImportError"),  # starlette and uvicorn, for graphpool serve
    # testing.py's fault injection raises the transient error a node would meet.
    ("testing.py", "ConnectionError"),
    # The Ray test cluster behind graphpool.testing (not the runtime): a Ray node
    # that did not start, with the tail of its log.
    ("_testing_ray.py", "RuntimeError"),
    # ``python -m graphpool``: the exit status of the command line.
    ("__main__.py", "SystemExit"),
}

# Owned by other branches at the time of writing (the scheduler/driver rewrite and the
# pool modules); their raises are checked once those branches land.
PENDING = {
    "_pool/_thread.py",
    "_pool/_async.py",
    "_pool/_queue.py",
}


def _raised_name(node: ast.Raise) -> str | None:
    """The class name in ``raise Name``, ``raise Name(...)``, ``raise mod.Name(...)``."""
    exc = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    if isinstance(exc, ast.Name):
        return exc.id
    if isinstance(exc, ast.Attribute):
        return exc.attr
    return None


def _offenders(path: Path, relative: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[str] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Raise):
                name = _raised_name(child)
                if (
                    name in BUILTIN_EXCEPTIONS
                    and (name, function) not in PROTOCOL
                    and (name, None) not in PROTOCOL
                    and (relative, name) not in ALLOWED
                ):
                    found.append(f"{relative}:{child.lineno}: raise {name} (in {function})")
            visit(child, function)

    visit(tree, None)
    return found


def _modules() -> list[tuple[Path, str]]:
    return sorted((path, path.relative_to(PACKAGE).as_posix()) for path in PACKAGE.rglob("*.py"))


def test_no_bare_builtin_raises_in_library_code() -> None:
    offenders = [
        line
        for path, relative in _modules()
        if relative not in PENDING
        for line in _offenders(path, relative)
    ]
    assert not offenders, (
        "Raise a class from graphpool.errors (add one there if none fits; keep the builtin "
        "as a base class when users catch it):\n" + "\n".join(offenders)
    )


def test_allow_list_and_pending_name_real_files() -> None:
    """A renamed or deleted module must leave the lists, or they hide nothing useful."""
    names = {relative for _, relative in _modules()}
    stale = sorted(({m for m, _ in ALLOWED} | PENDING) - names)
    assert not stale, f"allow-list entries for files that do not exist: {stale}"


def test_the_check_catches_a_bare_raise(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(x):\n"
        "    if x:\n"
        "        raise ValueError('bad')\n"
        "    raise errors.InvalidGraphError('fine')\n"
        "def __getattr__(name):\n"
        "    raise AttributeError(name)\n"
        "class A:\n"
        "    def m(self):\n"
        "        raise NotImplementedError\n"
        "    def g(self):\n"
        "        raise builtins.TypeError('bad too')\n"
    )
    assert _offenders(sample, "sample.py") == [
        "sample.py:3: raise ValueError (in f)",
        "sample.py:11: raise TypeError (in g)",
    ]
