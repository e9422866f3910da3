"""The 4xx errors of binding a request: the 422 detail users read (where, and what is wrong),
and the body's 400 (not JSON, nested too deeply, a broken form), 413 (too large) and 415 (not
sent as JSON)."""

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


def malformed_body(exc: msgspec.DecodeError | str) -> HTTPException:
    """A 400 for a body that is not JSON at all."""
    return HTTPException(400, f"The request body is not valid JSON: {exc}")


def deeply_nested_body() -> HTTPException:
    """A 400 for a JSON body nested deeper than the decoder goes (a hostile body)."""
    return HTTPException(
        400, "The request body is nested too deeply: send JSON with fewer nested levels."
    )


def missing_body() -> RequestValidationError:
    """A 422 for an empty body where the handler requires one."""
    return RequestValidationError(
        detail=[{"loc": ["body"], "msg": "A JSON body is required, the request has none."}]
    )


def unsupported_media_type(expected: str, content_type: str) -> HTTPException:
    """A 415 for a body sent in another format than the handler reads."""
    return HTTPException(
        415,
        f"This endpoint reads a {expected} body: send it with Content-Type: {expected} "
        f"(the request says {content_type!r}).",
    )


def missing_file(name: str) -> RequestValidationError:
    """A 422 for a required file the multipart body does not have."""
    return RequestValidationError(
        detail=[{"loc": ["body", name], "msg": f"Object missing required field `{name}`"}]
    )


def body_too_large(limit: int) -> HTTPException:
    """A 413 for a body over the app's ``max_body_size``."""
    return HTTPException(
        413,
        f"The request body is larger than {limit} bytes, the limit of this application "
        "(RavynSettings.max_body_size, RAVYN_MAX_BODY_SIZE).",
    )


def malformed_form(reason: str) -> HTTPException:
    """A 400 for a multipart body that cannot be parsed."""
    return HTTPException(400, f"The multipart/form-data body is malformed: {reason}.")


def too_many_form_parts(limit: int) -> HTTPException:
    """A 413 for a form with more fields and files than the app accepts."""
    return HTTPException(
        413,
        f"The form has more than {limit} fields and files, the limit of this application "
        "(RavynSettings.max_form_parts, RAVYN_MAX_FORM_PARTS).",
    )


def form_field_too_large(name: str, limit: int) -> HTTPException:
    """A 413 for one form field (not a file) over the app's field size limit."""
    return HTTPException(
        413,
        f"The form field {name!r} is larger than {limit} bytes, the limit of this application "
        "(RavynSettings.max_form_field_size, RAVYN_MAX_FORM_FIELD_SIZE); send large "
        "content as a file.",
    )
