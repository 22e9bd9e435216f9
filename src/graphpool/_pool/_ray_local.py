"""Where ``ray.init()`` will go, decided before Ray is imported; a new local instance on loopback.

With no address, ``ray.init()`` follows Ray's rules: ``RAY_ADDRESS``, else the
cluster ``ray start`` last started on this machine (it writes that cluster's
address to ``ray_current_cluster`` in Ray's temp folder; ``ray stop`` removes
it), else a new local instance. On Linux Ray gives that instance the
machine's outward address, and its servers listen on every interface.

Ray's own switch ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (the default on macOS
and Windows) makes it use 127.0.0.1, so the instance listens on loopback only.
Ray reads the switch once, when it is imported, and it rewrites a
``127.0.0.1`` given to ``ray.init`` as the node's address to the outward one.
So graphpool decides before it imports Ray, and sets the switch for that
import only when Ray would start a new instance. This module therefore reads
Ray's cluster file itself (Ray's helper for it would import Ray), as
``ray._common.utils.get_ray_address_file`` finds it. Nothing of Ray is patched.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOOPBACK_SWITCH", "cluster_file", "loopback_import", "starts_local_instance"]

LOOPBACK_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Ray's switch: ``0`` when Ray is imported makes a local instance use 127.0.0.1."""


def cluster_file(temp_dir: str | None = None) -> Path:
    """The file where ``ray start`` records its cluster's address (``ray.init``'s ``_temp_dir``
    if given, else ``$RAY_TMPDIR/ray``, ``$TMPDIR/ray`` on Linux, or ``/tmp/ray``)."""
    if temp_dir is None:
        if "RAY_TMPDIR" in os.environ:
            system = os.environ["RAY_TMPDIR"]
        elif sys.platform.startswith("linux") and "TMPDIR" in os.environ:
            system = os.environ["TMPDIR"]
        elif sys.platform.startswith(("linux", "darwin")):
            system = "/tmp"
        else:
            system = tempfile.gettempdir()
        temp_dir = os.path.join(system, "ray")
    return Path(temp_dir) / "ray_current_cluster"


def starts_local_instance(address: str | None, temp_dir: str | None = None) -> bool:
    """Whether ``ray.init(address=address)`` would start a new local instance:
    no address, no ``RAY_ADDRESS``, and no ``ray start`` cluster recorded on this machine."""
    if address or os.environ.get("RAY_ADDRESS"):
        return False
    return not cluster_file(temp_dir).exists()


@contextlib.contextmanager
def loopback_import(local: bool) -> Iterator[None]:
    """Import Ray inside this block with Ray's loopback switch set, if ``local`` and
    Ray is not imported yet (and the switch is not set already); restore it after."""
    if not local or "ray" in sys.modules or LOOPBACK_SWITCH in os.environ:
        yield
        return
    os.environ[LOOPBACK_SWITCH] = "0"
    try:
        yield
    finally:
        os.environ.pop(LOOPBACK_SWITCH, None)
