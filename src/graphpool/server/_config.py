"""``langgraph.json``: which graphs to serve (``"graphs"``) and the environment (``"env"``).

::

    {"graphs": {"agent": "./agent.py:graph"}, "env": ".env"}

Each graph is ``path/to/file.py:attr`` (relative to the config file) or
``package.module:attr``; ``attr`` is a compiled graph, a ``StateGraph`` builder
(compiled here), or a function of no arguments returning either.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from .._builder import StateGraph
from .._compiled import CompiledStateGraph
from ..errors import InvalidConfigError

__all__ = ["ServerConfig", "load_config", "load_graph"]


@dataclasses.dataclass
class ServerConfig:
    """What ``langgraph.json`` names: graph id to ``file.py:attr``, and its directory."""

    graphs: dict[str, str]
    root: Path
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    store: dict[str, Any] = dataclasses.field(default_factory=dict)  # index=, ttl= of the store


def load_config(path: str | os.PathLike[str]) -> ServerConfig:
    """Read ``langgraph.json``.

    Raises:
        InvalidConfigError: the file is missing, not JSON, or has no ``"graphs"`` mapping.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except OSError as exc:
        raise InvalidConfigError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidConfigError(f"{path} is not JSON: {exc}") from None
    graphs = data.get("graphs") if isinstance(data, dict) else None
    if not isinstance(graphs, dict) or not graphs:
        raise InvalidConfigError(f'{path}: needs "graphs": {{"name": "./file.py:graph"}}.')
    for name, spec in graphs.items():
        if not isinstance(spec, str) or ":" not in spec:
            raise InvalidConfigError(f'{path}: graphs["{name}"] must be "path.py:attr".')
    root = file.resolve().parent
    env = _env(data.get("env"), root)
    return ServerConfig(graphs=dict(graphs), root=root, env=env, store=_store(data, root, path))


def _store(data: dict[str, Any], root: Path, path: Any) -> dict[str, Any]:
    """``"store": {"index": {"dims", "embed", "fields"}, "ttl": {...}}``, with an
    ``embed`` given as ``./file.py:function`` loaded here ("provider:model" strings
    go to the store as they are)."""
    store = data.get("store") or {}
    if not isinstance(store, dict):
        raise InvalidConfigError(f'{path}: "store" must be an object.')
    out: dict[str, Any] = {}
    index = store.get("index")
    if index is not None:
        if not isinstance(index, dict):
            raise InvalidConfigError(f'{path}: "store.index" must be an object.')
        index = dict(index)
        embed = index.get("embed")
        if isinstance(embed, str) and (".py:" in embed or embed.startswith(("./", "/"))):
            target, _, attr = embed.rpartition(":")
            try:
                index["embed"] = getattr(_import(target, root), attr)
            except AttributeError:
                raise InvalidConfigError(f"{embed}: the module has no {attr!r}") from None
        out["index"] = index
    if isinstance(store.get("ttl"), dict):
        out["ttl"] = dict(store["ttl"])
    return out


def _env(value: Any, root: Path) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if not isinstance(value, str):
        return {}
    env: dict[str, str] = {}
    env_file = root / value
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, val = line.removeprefix("export ").partition("=")
                env[key.strip()] = val.strip().strip("'\"")
    return env


def load_graph(spec: str, root: Path) -> CompiledStateGraph:
    """Import ``file.py:attr`` (or ``module:attr``) and give back a compiled graph.

    Raises:
        InvalidConfigError: the file, module or attribute is missing, or is not a graph.
    """
    target, _, attr = spec.rpartition(":")
    module = _import(target, root)
    try:
        obj = getattr(module, attr)
    except AttributeError:
        raise InvalidConfigError(f"{spec}: the module has no {attr!r}") from None
    if callable(obj) and not isinstance(obj, (StateGraph, CompiledStateGraph)):
        obj = obj()
    if isinstance(obj, StateGraph):
        obj = obj.compile()
    if not isinstance(obj, CompiledStateGraph):
        raise InvalidConfigError(
            f"{spec}: {type(obj).__name__} is not a graphpool graph (StateGraph or compiled)."
        )
    return obj


def _import(target: str, root: Path) -> Any:
    if target.endswith(".py") or "/" in target or os.sep in target:
        path = (root / target).resolve()
        if not path.is_file():
            raise InvalidConfigError(f"no such file: {path}")
        name = f"_graphpool_serve_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise InvalidConfigError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        sys.path.insert(0, str(path.parent))
        spec.loader.exec_module(module)
        return module
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        raise InvalidConfigError(f"cannot import {target!r}: {exc}") from None
