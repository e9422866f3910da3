"""The HTTP errors a handler raises on purpose, and how any error becomes a JSON response.

They subclass Lilya's ``HTTPException`` so that Lilya's own 404/405 travel the same path.
"""

from __future__ import annotations

from typing import Any

import msgspec
from lilya.exceptions import HTTPException as LilyaHTTPException

from ravyn.events.errors import ImproperlyConfigured as ImproperlyConfigured


class HTTPException(LilyaHTTPException):
    """An error with an HTTP status; ``detail`` (any JSON value) is sent as ``{"detail": ...}``.

    ``HTTPException(400, "Bad coupon")`` or ``HTTPException(status_code=400, detail=...)``.
    """

    status_code: int | None = 500

    def __init__(
        self,
        status_code: int | None = None,
        detail: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(status_code, str) and detail is None:
            status_code, detail = None, status_code  # NotFound("No such user")
        super().__init__(status_code=status_code, detail=detail, headers=headers)


class NotAuthorized(HTTPException):
    """401: the caller is not authenticated (missing or invalid credentials)."""

    status_code = 401


class PermissionDenied(HTTPException):
    """403: the caller is authenticated but may not do this."""

    status_code = 403


class NotFound(HTTPException):
    """404: the resource does not exist."""

    status_code = 404


class RequestValidationError(HTTPException):
    """422: a parameter or the body does not fit the handler's declared types.

    ``detail`` is a list of ``{"loc": [source, field], "msg": ...}``.
    """

    status_code = 422


def error_body(detail: Any) -> bytes:
    """The JSON body of every error response."""
    return msgspec.json.encode({"detail": detail})
