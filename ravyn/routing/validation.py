"""The 4xx errors of binding a request: the 422 detail users read (where, and what is wrong),
and the body's 400 (not JSON), 413 (too large) and 415 (not sent as JSON)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ravyn.exceptions import HTTPException, RequestValidationError

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"missing required field `(?P<field>[^`]+)`")
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def validation_error(source: str, exc: msgspec.ValidationError) -> RequestValidationError:
    """A 422 whose detail is ``[{"loc": [source, field, ...], "msg": ...}]``."""
    message = str(exc)
    loc: list[Any] = [source]
    at = _AT.search(message)
    if at is not None:
        message = message[: at.start()]
        for name, index in _SEGMENT.findall(at.group("path")):
            loc.append(name if name else int(index))
    missing = _MISSING.search(message)
    if missing is not None:
        loc.append(missing.group("field"))
    return RequestValidationError(detail=[{"loc": loc, "msg": message}])


def malformed_body(exc: msgspec.DecodeError) -> HTTPException:
    """A 400 for a body that is not JSON at all."""
    return HTTPException(400, f"The request body is not valid JSON: {exc}")


def missing_body() -> RequestValidationError:
    """A 422 for an empty body where the handler requires one."""
    return RequestValidationError(
        detail=[{"loc": ["body"], "msg": "A JSON body is required, the request has none."}]
    )


def unsupported_media_type(content_type: str) -> HTTPException:
    """A 415 for a body sent as something else than JSON (a form, plain text)."""
    return HTTPException(
        415,
        f"This endpoint reads a JSON body: send it with Content-Type: application/json "
        f"(the request says {content_type!r}).",
    )


def body_too_large(limit: int) -> HTTPException:
    """A 413 for a body over the app's ``max_body_size``."""
    return HTTPException(
        413,
        f"The request body is larger than {limit} bytes, the limit of this application "
        "(RavynSettings.max_body_size, RAVYN_MAX_BODY_SIZE).",
    )
