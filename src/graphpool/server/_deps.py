"""The server's optional dependencies (``pip install graphpool[server]``), checked once."""

from __future__ import annotations

import importlib.util

__all__ = ["require_server_deps"]

_NEEDED = ("starlette", "uvicorn")
_POSTGRES = ("psycopg", "psycopg_pool")


def require_server_deps(*, postgres: bool = False) -> None:
    """Check that Starlette and uvicorn are installed (and psycopg with psycopg_pool,
    for a PostgreSQL ``--database``).

    Raises:
        ImportError: one is missing; the message names the extra to install.
    """
    needed = _NEEDED + (_POSTGRES if postgres else ())
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        extra = "server,postgres" if postgres else "server"
        raise ImportError(
            f"graphpool serve needs {', '.join(missing)}: pip install 'graphpool[{extra}]'"
        )
