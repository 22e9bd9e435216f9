"""The server's optional dependencies (``pip install graphpool[server]``), checked once."""

from __future__ import annotations

import importlib.util

__all__ = ["require_server_deps"]

_NEEDED = ("starlette", "uvicorn")


def require_server_deps() -> None:
    """Check that Starlette and uvicorn are installed.

    Raises:
        ImportError: one is missing; the message names the extra to install.
    """
    missing = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"graphpool serve needs {', '.join(missing)}: pip install 'graphpool[server]'"
        )
