"""Domain errors: each carries a stable ``code`` and the HTTP status the API answers with.

The API maps them in one exception handler; pages turn them into form errors.
"""

from __future__ import annotations

from typing import Any


class KampusError(Exception):
    """Base of every domain error that a user can cause and fix."""

    code: str = "error"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = str(message)
        if code is not None:
            self.code = code
        # Extra keys go into the API error body as they are (e.g. conflicts, rule, allowed).
        self.extra = extra


class NotFound(KampusError):
    code = "not_found"
    http_status = 404


class PermissionDenied(KampusError):
    code = "permission_denied"
    http_status = 403


class InvalidInput(KampusError):
    """Input that is well-formed but wrong; ``errors`` lists ``{field, message}``."""

    code = "invalid"
    http_status = 422

    def __init__(self, message: str, *, errors: list[dict[str, str]] | None = None, **extra: Any) -> None:
        super().__init__(message, errors=errors or [], **extra)
