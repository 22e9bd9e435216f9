"""Run-time half of the harness: each rewritten LangGraph import asks this module for a name.

Copied into the prepared test tree as ``_lgshim`` and imported by every rewritten
module. ``LGSUITE_TARGET`` picks the library:

* ``langgraph`` (the reference run): ``name("langgraph.types", "Command")`` is
  ``langgraph.types.Command``.
* ``graphpool``: the same name from graphpool, looked up in ``graphpool.types``, then
  in the parent packages (``graphpool``), then in a few extra places listed in
  :data:`EXTRA`. When graphpool has no such name, or only re-exports LangGraph's own
  object, the result is a :class:`Placeholder` that raises :class:`MissingName` when a
  test touches it. A missing name therefore fails exactly the tests that use it.
"""

from __future__ import annotations

import importlib
import os
import types
from typing import Any, NoReturn

TARGET = os.environ.get("LGSUITE_TARGET", "langgraph")
if TARGET not in ("langgraph", "graphpool"):
    raise SystemExit(f"LGSUITE_TARGET must be 'langgraph' or 'graphpool', got {TARGET!r}")

# Where graphpool keeps what LangGraph exports from these modules, besides the
# same path and its parents.
EXTRA: dict[str, tuple[str, ...]] = {
    "langgraph.types": ("graphpool.checkpoint",),  # StateSnapshot, PregelTask
    "langgraph.constants": ("graphpool.types",),  # Send, Interrupt
}


class MissingName(Exception):
    """A LangGraph public name that the target library does not have."""


class BrokenDefinition(Exception):
    """A module-level statement of a test module raised; what it defined is unusable."""


class Placeholder:
    """Stands for a name that could not be had; any real use raises its error.

    Calling it, subscripting it (``Runtime[Ctx]``), subclassing it, iterating it,
    ``isinstance`` against it and its attributes all raise. ``Missing | None`` does
    not: it is how helper signatures annotate, and annotations do not count (the same
    rule as for not-applicable tests).
    """

    def __init__(self, label: str, error: BaseException):
        object.__setattr__(self, "_lgsuite_label", label)
        object.__setattr__(self, "_lgsuite_error", error)

    def _lgsuite_raise(self, *args: Any, **kwargs: Any) -> NoReturn:
        error = object.__getattribute__(self, "_lgsuite_error")
        raise type(error)(*error.args) from error.__cause__

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # probes by pytest, inspect, copy: "not there"
        self._lgsuite_raise()

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_lgsuite_label')}>"

    def __mro_entries__(self, bases: tuple[Any, ...]) -> NoReturn:
        self._lgsuite_raise()

    def __or__(self, other: Any) -> Placeholder:
        return self  # ``Missing | None`` in a helper's signature: stored, never used

    __ror__ = __or__
    __call__ = __getitem__ = __iter__ = __instancecheck__ = __subclasscheck__ = _lgsuite_raise
    __setattr__ = __enter__ = __aenter__ = _lgsuite_raise


def placeholder(label: str, error: BaseException) -> Placeholder:
    """A :class:`Placeholder` whose type is named ``label``, so that even a message that
    shows only the type (``pytest.raises(<placeholder>)``) names what is missing."""
    return type(label, (Placeholder,), {})(label, error)


def _graphpool_candidates(module: str) -> list[str]:
    parts = module.split(".")[1:]
    names = [".".join(["graphpool", *parts[:n]]) for n in range(len(parts), -1, -1)]
    return names + list(EXTRA.get(module, ()))


def _import(module: str) -> types.ModuleType | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None  # the candidate itself does not exist
        raise


def _missing(module: str, name: str, why: str) -> Placeholder:
    label = f"missing name {module}.{name}"
    return placeholder(label, MissingName(f"{label} ({why})"))


def _from_graphpool(module: str, name: str) -> Any:
    tried = _graphpool_candidates(module)
    for candidate in tried:
        try:
            mod = _import(candidate)
        except Exception as exc:
            return _missing(module, name, f"{candidate} fails to import: {exc!r}")
        if mod is None or not hasattr(mod, name):
            continue
        found = getattr(mod, name)
        origin = getattr(found, "__module__", None) or ""
        if origin == "langgraph" or origin.startswith("langgraph."):
            return _missing(module, name, f"{candidate}.{name} is LangGraph's own object")
        return found
    return _missing(module, name, f"graphpool has none in {', '.join(tried)}")


def name(module: str, attr: str) -> Any:
    """``module.attr`` from the target library (a :class:`Placeholder` if it has none)."""
    if TARGET == "graphpool":
        return _from_graphpool(module, attr)
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        return _missing(module, attr, str(exc))


class _Module(types.ModuleType):
    """``import langgraph.x as m``: each ``m.attr`` is resolved like ``name``."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return name(self.__name__, attr)


def module(path: str) -> types.ModuleType:
    """A module-like object for ``import langgraph.x as m``."""
    return _Module(path)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def broken(namespace: dict[str, Any], names: list[str], error: Exception, line: int) -> None:
    """A module-level statement raised: make what it binds raise that error when used."""
    message = f"module-level statement at line {line} failed: {_describe(error)}"
    wrapped = BrokenDefinition(message)
    wrapped.__cause__ = error
    for item in names:
        namespace[item] = placeholder(f"broken {item}: {_describe(error)}", wrapped)


def broken_test(namespace: dict[str, Any], names: list[str], error: Exception, line: int) -> None:
    """A ``def test_*`` raised while being defined: a test of that name fails with the error."""
    message = f"the test's definition (line {line}) failed: {_describe(error)}"

    def failing() -> NoReturn:
        raise BrokenDefinition(message) from error

    for item in names:
        failing.__name__ = failing.__qualname__ = item
        namespace[item] = failing
