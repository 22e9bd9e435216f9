"""The one error a route raises: an HTTP status with a message for the client."""

from __future__ import annotations

from ..errors import GraphpoolError

__all__ = ["ApiError"]


class ApiError(GraphpoolError):
    """A request the server refuses, answered as ``{"detail": message}`` with ``status``.

    Raised by the server's routes and validators (``graphpool serve``).
    """

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, f"{what} {ident!r} not found")
