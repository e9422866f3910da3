"""The ASGI endpoints of the documentation: a document or a page built on first use, then
sent as the same bytes to every request (no work per request but the send)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec


class CachedEndpoint:
    """``GET``/``HEAD`` of content made once by ``build(root_path)`` (the app's mount
    point, for the URLs a page links to), then kept per mount point."""

    __slots__ = ("build", "content_type", "cache")

    def __init__(self, build: Callable[[str], bytes], content_type: str) -> None:
        self.build = build
        self.content_type = content_type.encode("latin-1")
        self.cache: dict[str, tuple[bytes, list[tuple[bytes, bytes]]]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        root_path = scope.get("root_path", "")
        cached = self.cache.get(root_path)
        if cached is None:
            body = self.build(root_path)
            headers = [
                (b"content-type", self.content_type),
                (b"content-length", str(len(body)).encode("latin-1")),
            ]
            cached = self.cache[root_path] = (body, headers)
        body, headers = cached
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


def json_document(build: Callable[[], dict[str, Any]]) -> CachedEndpoint:
    """An endpoint serving ``build()`` as JSON: keys in the order built, so the same app
    gives the same bytes."""
    return CachedEndpoint(lambda _root_path: msgspec.json.encode(build()), "application/json")
