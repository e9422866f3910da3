"""Mounting handlers on Lilya's router: ``Gateway``, ``WebSocketGateway`` and ``Include``.

A bare handler in ``routes=[...]`` is wrapped in a Gateway at its own path. ``Gateway`` binds
it under a prefix (``Gateway("/v1", handler=list_users)`` serves ``/v1/users``), with its own
dependencies and middleware. ``Include`` nests a list of routes (or any ASGI app) under a path.

Dependencies declared by the app and by includes are only known once the whole tree exists;
``finalize_routes`` walks it when the app is built and compiles each endpoint with the
dependencies and full path it inherits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lilya.routing import Include as LilyaInclude
from lilya.routing import Path, WebSocketPath

from ravyn.exceptions import ImproperlyConfigured
from ravyn.routing.controllers import is_controller
from ravyn.routing.dependencies import Inject
from ravyn.routing.handlers import (
    HandlerEndpoint,
    RouteHandler,
    WebSocketEndpoint,
    WebSocketHandler,
)
from ravyn.routing.route_settings import DEFAULT_ROUTE_SETTINGS, RouteSettings


def join_paths(prefix: str, path: str) -> str:
    """``/v1`` + ``/users`` -> ``/v1/users``; a ``/`` on either side adds nothing."""
    prefix = prefix.rstrip("/")
    if path in ("", "/"):
        return prefix or "/"
    return prefix + path


class _Finalized:
    """A gateway's endpoint is compiled with the full path and dependencies it inherits."""

    endpoint: HandlerEndpoint | WebSocketEndpoint
    gateway_dependencies: dict[str, Inject]
    path: str

    def finalize(
        self, inherited: Mapping[str, Inject], prefix: str, settings: RouteSettings
    ) -> None:
        self.endpoint.compile(
            join_paths(prefix, self.path), {**inherited, **self.gateway_dependencies}, settings
        )


class Gateway(_Finalized, Path):
    """Serve an HTTP ``handler`` at ``path`` + the handler's own path."""

    def __init__(
        self,
        path: str | None = None,
        handler: RouteHandler | None = None,
        *,
        name: str | None = None,
        dependencies: Mapping[str, Inject] | None = None,
        middleware: Sequence[Any] | None = None,
        include_in_schema: bool = True,
    ) -> None:
        if not isinstance(handler, RouteHandler):
            raise ImproperlyConfigured(
                f"Gateway(handler=...) takes a function decorated with @get/@post/..., "
                f"got {handler!r}."
            )
        self.gateway_dependencies = dict(dependencies or {})
        full_path = join_paths(path or "/", handler.path)
        self.endpoint = HandlerEndpoint(handler, full_path)
        super().__init__(
            full_path,
            self.endpoint,
            methods=list(handler.methods),
            name=name or handler.name,
            middleware=middleware,
            include_in_schema=include_in_schema and handler.include_in_schema,
        )


class WebSocketGateway(_Finalized, WebSocketPath):
    """Serve a WebSocket ``handler`` at ``path`` + the handler's own path."""

    def __init__(
        self,
        path: str | None = None,
        handler: WebSocketHandler | None = None,
        *,
        name: str | None = None,
        dependencies: Mapping[str, Inject] | None = None,
        middleware: Sequence[Any] | None = None,
    ) -> None:
        if not isinstance(handler, WebSocketHandler):
            raise ImproperlyConfigured(
                f"WebSocketGateway(handler=...) takes a function decorated with @websocket, "
                f"got {handler!r}."
            )
        self.gateway_dependencies = dict(dependencies or {})
        full_path = join_paths(path or "/", handler.path)
        self.endpoint = WebSocketEndpoint(handler, full_path)
        super().__init__(full_path, self.endpoint, name=name or handler.name, middleware=middleware)


class Include(LilyaInclude):
    """Nest ``routes`` (handlers, gateways, includes) or an ASGI ``app`` under ``path``,
    with dependencies and middleware shared by everything inside."""

    def __init__(
        self,
        path: str = "/",
        app: Any = None,
        routes: Sequence[Any] | None = None,
        *,
        name: str | None = None,
        dependencies: Mapping[str, Inject] | None = None,
        middleware: Sequence[Any] | None = None,
        namespace: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        if app is not None and dependencies:
            raise ImproperlyConfigured(
                f"Include({path!r}, app=...) serves an ASGI app, which has no handlers for "
                "dependencies= to guard: guard it inside that app (the EventBridge takes "
                "authorize=) or with a middleware."
            )
        self.include_dependencies = dict(dependencies or {})
        super().__init__(
            path,
            app=app,
            routes=normalize_routes(routes) if routes is not None else None,
            name=name,
            middleware=middleware,
            namespace=namespace,
            include_in_schema=include_in_schema,
            redirect_slashes=False,  # the app's TrailingSlashRedirect answers (307, not 303)
        )

    def finalize(
        self, inherited: Mapping[str, Inject], prefix: str, settings: RouteSettings
    ) -> None:
        finalize_routes(
            self.routes,
            {**inherited, **self.include_dependencies},
            join_paths(prefix, self.path),
            settings,
        )


def normalize_route(route: Any, prefix: str = "") -> list[Any]:
    """A bare handler becomes a gateway at ``prefix`` + its own path, a ``Controller`` one
    gateway per method at ``prefix`` + its path; anything else is kept as it is."""
    if isinstance(route, RouteHandler):
        return [Gateway(prefix or "/", handler=route)]
    if isinstance(route, WebSocketHandler):
        return [WebSocketGateway(prefix or "/", handler=route)]
    if is_controller(route):
        path = join_paths(prefix, route.path)
        return [
            Gateway(path, handler=handler, middleware=route.middleware)
            if isinstance(handler, RouteHandler)
            else WebSocketGateway(path, handler=handler, middleware=route.middleware)
            for handler in route.route_handlers()
        ]
    if prefix:
        raise ImproperlyConfigured(
            f"A prefix applies to a @get/@post/... handler or a Controller; {route!r} is "
            "mounted at its own path: put the prefix in that path."
        )
    return [route]


def normalize_routes(routes: Sequence[Any]) -> list[Any]:
    return [normalized for route in routes for normalized in normalize_route(route)]


def served_handlers(routes: Sequence[Any]) -> Iterator[Any]:
    """The route handlers (``@get``, ``@websocket``, ...) served under ``routes``."""
    for route in routes:
        handler = getattr(getattr(route, "endpoint", None), "route", None)
        if handler is not None:
            yield handler
        elif isinstance(route, LilyaInclude) and route.routes:
            yield from served_handlers(route.routes)


def finalize_routes(
    routes: Sequence[Any],
    inherited: Mapping[str, Inject],
    prefix: str,
    settings: RouteSettings = DEFAULT_ROUTE_SETTINGS,
) -> None:
    """Compile every endpoint under ``routes`` with its inherited dependencies, full path
    and the app's settings (routes never read the app per request)."""
    for route in routes:
        finalize = getattr(route, "finalize", None)
        if finalize is not None:
            finalize(inherited, prefix, settings)
