"""Webhooks: a run's record and result POSTed to the URL its request named, once it ends.

Sent from a thread (standard library ``urllib``), after the run's end is committed;
a webhook that fails or times out is logged, not retried (yet).
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Any

from ._errors import ApiError
from ._json import dumps

__all__ = ["check_url", "send"]

log = logging.getLogger("graphpool.server")

TIMEOUT_SECONDS = 10.0


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL.

    Raises:
        ApiError: 422 naming ``webhook`` otherwise.
    """
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise ApiError(422, "webhook: must be an http:// or https:// URL")
    return url


def send(url: str, payload: dict[str, Any]) -> None:
    """POST ``payload`` as JSON to ``url``; errors are logged."""
    request = urllib.request.Request(
        url,
        data=dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "graphpool-serve"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read()
    except Exception as exc:  # a receiver that is down must not hurt the server
        log.warning("webhook %s failed: %r", url, exc)
