"""What the app answers when no route takes a request as it is.

- Trailing slashes: ``/users/`` when only ``/users`` exists (or the reverse) is a redirect.
  Lilya's routers redirect with a 303, which makes clients repeat a POST as a GET; ravyn
  turns that off and answers a 307 (method and body kept), looking inside includes too.
- The methods a path allows, from every route that serves it (Lilya's 405 names only the
  first route's): the ``Allow`` header of a 405 and the answer to ``OPTIONS``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lilya.enums import Match
from lilya.routing import Include as LilyaInclude
from lilya.routing import Router


class TrailingSlashRedirect:
    """The top router's fallback (``router.default``) when no route matched the request."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path != "/":
                other = path.rstrip("/") if path.endswith("/") else path + "/"
                if other and route_exists(self.router.routes, {**scope, "path": other}):
                    await _redirect(send, other, scope.get("query_string", b""))
                    return
        await self.router.handle_not_found(scope, receive, send)


def serving_routes(routes: Sequence[Any], scope: dict[str, Any]) -> Iterator[Any]:
    """The routes that serve ``scope["path"]`` (with any method), looking inside includes."""
    for route in routes:
        match, child_scope = route.search(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, LilyaInclude) and route.routes:
            yield from serving_routes(route.routes, {**scope, **child_scope})
        else:
            yield route


def allowed_methods(routes: Sequence[Any], scope: dict[str, Any]) -> list[str]:
    """Every method some route serves ``scope["path"]`` with."""
    methods: list[str] = []
    for route in serving_routes(routes, scope):
        found = sorted(getattr(route, "methods", None) or ())
        methods.extend(method for method in found if method not in methods)
    return methods


def route_exists(routes: Sequence[Any], scope: dict[str, Any]) -> bool:
    """Whether a route (with any method) serves ``scope["path"]``."""
    return next(serving_routes(routes, scope), None) is not None


async def _redirect(send: Any, path: str, query_string: bytes) -> None:
    location = path.encode("latin-1") + (b"?" + query_string if query_string else b"")
    headers = [(b"location", location), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 307, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
