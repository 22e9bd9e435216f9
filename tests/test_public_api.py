"""The public surface: what ``graphpool`` exports, and the one exception hierarchy."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import graphpool
from graphpool import errors


def test_every_exported_name_exists_and_is_public() -> None:
    for name in graphpool.__all__:
        assert hasattr(graphpool, name), name
    assert len(set(graphpool.__all__)) == len(graphpool.__all__)
    assert (Path(graphpool.__file__).parent / "py.typed").exists()


@pytest.mark.parametrize("module", ["graphpool.graph", "graphpool.types", "graphpool.errors"])
def test_langgraph_style_modules_export_what_they_list(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name}"


def test_every_error_but_the_interrupt_signal_has_one_root() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        if name in ("GraphInterrupt", "ParentCommand"):  # control-flow signals, not errors
            assert not issubclass(cls, Exception)
            continue
        assert issubclass(cls, errors.GraphpoolError), name


def test_langgraph_base_classes_are_kept_where_users_catch_them() -> None:
    assert issubclass(errors.GraphRecursionError, RecursionError)
    assert issubclass(errors.InvalidGraphError, ValueError)
    assert issubclass(errors.NodeTimeoutError, TimeoutError)
    assert issubclass(errors.InvalidRouteError, KeyError)


def test_every_error_is_exported_and_documented() -> None:
    for name in errors.__all__:
        assert getattr(graphpool, name) is getattr(errors, name), name
        assert getattr(errors, name).__doc__, f"{name} needs a docstring naming what raises it"


def test_new_families_keep_the_builtin_bases_their_raises_had() -> None:
    assert issubclass(errors.InvalidConfigError, ValueError)
    assert issubclass(errors.InvalidConfigError, TypeError)
    assert issubclass(errors.InvalidMessagesError, ValueError)
    assert issubclass(errors.NotInNodeError, RuntimeError)
    assert issubclass(errors.RenderError, RuntimeError)
    assert issubclass(errors.MissingRendererError, errors.RenderError)
    assert issubclass(errors.CheckpointNotFoundError, KeyError)
    assert str(errors.CheckpointNotFoundError("No checkpoint 'x'.")) == "No checkpoint 'x'."
