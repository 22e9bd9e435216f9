"""_pool/_pickling.py: how node calls are pickled for process workers and Ray tasks."""

from __future__ import annotations

import ast
import pickle
import re
import threading
from pathlib import Path

import pytest

import graphpool
from graphpool import SerializationError
from graphpool._pool import _pickling, _process

POOL_DIR = Path(graphpool.__file__).parent / "_pool"
LOCK = threading.Lock()


def test_a_call_round_trips_with_closures() -> None:
    offset = 5
    fn, arg = _pickling.loads_from_worker(
        _pickling.dumps_for_worker("n", lambda s: s["x"] + offset, {"x": 1})
    )
    assert fn(arg) == 6


@pytest.mark.parametrize(
    ("fn", "arg", "culprit"),
    [
        (lambda s: LOCK.locked(), {"x": 1}, "its function"),
        (len, {"x": 1, "handle": threading.Lock()}, "state key 'handle' (lock)"),
    ],
)
def test_unpicklable_calls_name_node_and_culprit_for_both_targets(fn, arg, culprit) -> None:
    with pytest.raises(
        SerializationError, match=rf"'cpu' to a process worker: {re.escape(culprit)}"
    ) as e:
        _pickling.dumps_for_worker("cpu", fn, arg)
    assert e.value.node == "cpu"
    with pytest.raises(SerializationError, match=rf"'cpu' to Ray: {re.escape(culprit)}") as e:
        _pickling.pickled_size("cpu", fn, arg)
    assert e.value.node == "cpu"


def test_pickled_size_counts_out_of_band_buffers() -> None:
    big = pickle.PickleBuffer(bytearray(1_000_000))
    assert _pickling.pickled_size("n", None, {"blob": big}) >= 1_000_000
    assert _pickling.pickled_size("n", None, {"x": 1}) < 1_000


def test_old_names_still_importable_from_the_process_module() -> None:
    assert _process.dumps_for_worker is _pickling.dumps_for_worker
    assert _process.loads_from_worker is _pickling.loads_from_worker


def _imports(module: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_the_ray_pool_does_not_reach_into_the_process_pool() -> None:
    # shared helpers live in _pickling; one pool kind never imports another
    assert "._process" not in _imports(POOL_DIR / "_ray.py")
    assert "._pickling" in _imports(POOL_DIR / "_ray.py")
    assert "._pickling" in _imports(POOL_DIR / "_process.py")
