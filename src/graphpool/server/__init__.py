"""``graphpool serve``: an HTTP server that LangGraph's own SDK (``langgraph_sdk``) talks to.

How a request flows::

    HTTP request ──> _app (auth, body limit, errors) ──> _routes_* (validate, storage)
                                                             │ a run is committed
                                                             v
                     _storage (assistants, threads, runs = the queue: _queue)
                                                             │ claim (lease)
                                                             v
                     _worker (runs the graph with astream on the shared pools)
                                                             │ events
                                                             v
                     _broker (per-run event log) ──> _sse (Server-Sent Events to clients)

The database is one SQLite file (``_sqlite.SqliteStorage``), or a PostgreSQL
database that several servers share (``_postgres``: the same queries, with the
dialect's differences in ``_dialect``; ``LISTEN``/``NOTIFY`` wakes idle servers,
and ``_follow`` streams a run that another server runs). Checkpoints and store
items live in the same database, through graphpool's own saver and store
(SQLite or PostgreSQL).

Starlette and uvicorn (``pip install graphpool[server]``) are imported only when
the server starts.
"""

from __future__ import annotations

__all__: list[str] = []
