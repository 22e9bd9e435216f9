"""``graphpool serve``: an HTTP server that LangGraph's own SDK (``langgraph_sdk``) talks to.

How a request flows::

    HTTP request ──> _app (auth, body limit, errors) ──> _routes_* (validate, storage)
                                                             │ a run is committed
                                                             v
                     _storage (one SQLite file: assistants, threads, runs = the queue)
                                                             │ claim (lease)
                                                             v
                     _worker (runs the graph with astream on the shared pools)
                                                             │ events
                                                             v
                     _broker (per-run event log) ──> _sse (Server-Sent Events to clients)

Checkpoints and store items live in the same SQLite file, through graphpool's own
:class:`~graphpool.checkpoint.sqlite.SqliteSaver` and
:class:`~graphpool.store.sqlite.SqliteStore`.

Starlette and uvicorn (``pip install graphpool[server]``) are imported only when
the server starts.
"""

from __future__ import annotations

__all__: list[str] = []
