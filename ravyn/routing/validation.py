"""Turn msgspec's validation errors into the 422 detail users read: where, and what is wrong."""

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
