"""Reading a request's body within the route's ``max_body_size``: whole, or chunk by chunk.

Both refuse a body over the limit with a 413 as soon as it is known (from Content-Length,
else while the bytes arrive), and both keep what was read where Lilya's
``Request.body()`` looks, so a handler or dependency that also reads the body gets it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ravyn.routing.validation import body_too_large


async def request_body(scope: dict[str, Any], receive: Any, limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes (else a 413)."""
    body = scope.get("_body")
    if body is not None:  # a middleware or a dependency read it already
        return body
    _check_length(scope, limit)
    message = await receive()
    body = message.get("body", b"")
    if message.get("more_body", False):
        chunks = [body]
        size = len(body)
        while message.get("more_body", False):
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise body_too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
    elif len(body) > limit:
        raise body_too_large(limit)
    scope["_body"] = body
    return body


async def body_chunks(scope: dict[str, Any], receive: Any, limit: int) -> AsyncIterator[bytes]:
    """The body as it arrives (for multipart uploads), at most ``limit`` bytes in all; it
    is not kept, so it can be read this way only once."""
    body = scope.get("_body")
    if body is not None:
        yield body
        return
    _check_length(scope, limit)
    size = 0
    more_body = True
    while more_body:
        message = await receive()
        chunk = message.get("body", b"")
        more_body = message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        if chunk:
            yield chunk


def _check_length(scope: dict[str, Any], limit: int) -> None:
    """A 413 at once when Content-Length already says the body is over ``limit``."""
    for key, value in scope["headers"]:
        if key == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise body_too_large(limit)
            break
