"""The functional API, as ``langgraph.func``: ``@entrypoint`` and ``@task``.

A workflow is a plain function decorated with :class:`entrypoint`; the
``@task`` functions it calls return futures and start at once on the run's
pool. With a checkpointer every finished task call is saved as it finishes, so
after an ``interrupt()`` or a crash the entrypoint runs again from the top and
finished calls return their saved results without running again.
"""

from ._entrypoint import entrypoint
from ._future import TaskFuture
from ._task import task
from ._workflow import Entrypoint

__all__ = ["Entrypoint", "TaskFuture", "entrypoint", "task"]
