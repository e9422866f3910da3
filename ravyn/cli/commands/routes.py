"""``ravyn routes``: every route of the app, as the router serves it.

One row per route: methods, full path (include and gateway prefixes applied), the name
``url_for`` takes (``api:UserApi.get_user`` inside ``Include(name="api")``), the handler
(``module:qualname``), and the events a handler sends.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from lilya.routing import Include as LilyaInclude

from ravyn.cli.command import add_command
from ravyn.cli.targets import add_app_arguments, app_from_arguments
from ravyn.routing.gateways import join_paths
from ravyn.routing.handlers import HandlerEndpoint, WebSocketEndpoint
from ravyn.utils.tables import format_table


def register(commands: Any) -> None:
    parser = add_command(
        commands, "routes", handler=routes, help="list the app's routes and what they send"
    )
    add_app_arguments(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def routes(args: argparse.Namespace) -> None:
    app = app_from_arguments(args)
    rows = list(route_rows(app.routes))
    if args.json:
        print(msgspec.json.format(msgspec.json.encode(rows).decode()))
    else:
        print(format_table(rows) if rows else "(no routes)")


def route_rows(routes: Sequence[Any], prefix: str = "", namespace: str = "") -> Iterator[dict]:
    """A row per route under ``routes``, looking inside includes."""
    for route in routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, HandlerEndpoint):
            spec = endpoint.route.observable
            yield _row(
                list(endpoint.route.methods),
                endpoint.path,  # already the full path: the app compiled it at its mount
                namespace + route.name,
                endpoint.route.handler,
                list(spec.send) if spec is not None else [],
            )
        elif isinstance(endpoint, WebSocketEndpoint):
            yield _row(
                ["WEBSOCKET"], endpoint.path, namespace + route.name, endpoint.route.handler, []
            )
        elif isinstance(route, LilyaInclude):
            path = join_paths(prefix, route.path)
            if route.routes:
                name = f"{namespace}{route.name}:" if route.name else namespace
                yield from route_rows(route.routes, path, name)
            else:  # an ASGI app mounted as a whole: static files, a bridge...
                yield _row(
                    ["*"],
                    join_paths(path, "/{path}"),
                    namespace + (route.name or ""),
                    route.app,
                    [],
                )
        else:  # a plain Lilya route (the documentation pages)
            yield _row(
                sorted(set(getattr(route, "methods", None) or ["*"])),
                join_paths(prefix, route.path),
                namespace + (route.name or ""),
                getattr(route, "handler", route),
                [],
            )


def _row(methods: list[str], path: str, name: str, handler: Any, events: list[str]) -> dict:
    return {
        "method": methods,
        "path": path,
        "name": name,
        "handler": _qualified(handler),
        "events": events,
    }


def _qualified(obj: Any) -> str:
    """``module:qualname`` of a function, a bound method, or the class of an ASGI object."""
    if not hasattr(obj, "__qualname__"):
        obj = type(obj)
    return f"{obj.__module__}:{obj.__qualname__}"
