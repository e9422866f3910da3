"""The ASGI endpoints of the documentation: a document or a page built on first use, then
sent as the same bytes to every request (no work per request but the send) until what it
describes changes (a route added)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec


def _unchanging() -> None:
    return None


class CachedEndpoint:
    """``GET``/``HEAD`` of content made once by ``build(root_path)`` (the app's mount
    point, for the URLs a page links to), then kept per mount point while ``version()``
    (what the content is built from, e.g. the app's route changes) returns the same."""

    __slots__ = ("build", "content_type", "version", "cache")

    def __init__(
        self,
        build: Callable[[str], bytes],
        content_type: str,
        version: Callable[[], Any] = _unchanging,
    ) -> None:
        self.build = build
        self.content_type = content_type.encode("latin-1")
        self.version = version
        self.cache: dict[str, tuple[Any, bytes, list[tuple[bytes, bytes]]]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        root_path = scope.get("root_path", "")
        version = self.version()
        cached = self.cache.get(root_path)
        if cached is None or cached[0] != version:
            body = self.build(root_path)
            headers = [
                (b"content-type", self.content_type),
                (b"content-length", str(len(body)).encode("latin-1")),
            ]
            cached = self.cache[root_path] = (version, body, headers)
        _, body, headers = cached
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


def json_document(
    build: Callable[[], dict[str, Any]], version: Callable[[], Any] = _unchanging
) -> CachedEndpoint:
    """An endpoint serving ``build()`` as JSON: keys in the order built, so the same app
    gives the same bytes."""
    return CachedEndpoint(
        lambda _root_path: msgspec.json.encode(build()), "application/json", version
    )
