"""The OpenAPI 3.1 document of a Ravyn app: every documented route of its tree, with the
full path and the binding plan it has at its mount (Include and Gateway prefixes applied).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from ravyn.openapi.operations import build_operation
from ravyn.openapi.responses import middleware_responses
from ravyn.openapi.schemas import Components
from ravyn.routing.gateways import Gateway, Include
from ravyn.routing.handlers import HandlerEndpoint

OPENAPI_VERSION = "3.1.0"
_PATH_PARAMETER = re.compile(r"{(\w+)(?::[^}]*)?}")


def openapi_document(app: Any) -> dict[str, Any]:
    """The OpenAPI document of ``app`` (a ``Ravyn``) as plain data."""
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    security_schemes: dict[str, Any] = {}
    operation_ids: set[str] = set()
    app_wide = middleware_responses(app.user_middleware)
    for endpoint, middleware in _endpoints_in(app.routes, True, ()):
        around = [*app_wide, *middleware_responses(middleware)]
        route = endpoint.route
        path = _PATH_PARAMETER.sub(r"{\1}", endpoint.path)
        path_names = _PATH_PARAMETER.findall(endpoint.path)
        for method in route.methods:
            if method == "HEAD" and "GET" in route.methods:
                continue
            operation_id = _unique(route.operation_id or route.name, method, operation_ids)
            plan = endpoint.plan
            assert plan is not None  # handler_endpoints compiles every endpoint it yields
            operation, schemes = build_operation(
                route, plan, path_names, operation_id, components, around
            )
            paths.setdefault(path, {})[method.lower()] = operation
            for scheme in schemes:
                security_schemes[scheme.name] = dict(scheme.definition)
    info: dict[str, Any] = {"title": app.title, "version": app.version}
    if app.description:
        info["description"] = app.description
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info, "paths": paths}
    document["components"] = {"schemas": components.finish()}
    if security_schemes:
        document["components"]["securitySchemes"] = dict(sorted(security_schemes.items()))
    return document


def handler_endpoints(
    routes: Sequence[Any], *, schema_only: bool = True
) -> Iterator[HandlerEndpoint]:
    """The compiled endpoints of the HTTP handlers under ``routes``; with ``schema_only``,
    those in the schema (``include_in_schema`` on the handler, the gateway and every
    enclosing include)."""
    for endpoint, _middleware in _endpoints_in(routes, schema_only, ()):
        yield endpoint


def _endpoints_in(
    routes: Sequence[Any], schema_only: bool, middleware: tuple[Any, ...]
) -> Iterator[tuple[HandlerEndpoint, tuple[Any, ...]]]:
    """Each endpoint with the middleware definitions of its gateway and enclosing includes."""
    for route in routes:
        if schema_only and not getattr(route, "include_in_schema", True):
            continue
        around = (*middleware, *getattr(route, "middleware", ()))
        if isinstance(route, Gateway) and isinstance(route.endpoint, HandlerEndpoint):
            if route.endpoint.plan is None:  # mounted outside a Ravyn app's finalize
                route.endpoint.compile(route.endpoint.path, {})
            yield route.endpoint, around
        elif isinstance(route, Include):
            yield from _endpoints_in(route.routes, schema_only, around)


def _unique(name: str, method: str, taken: set[str]) -> str:
    """``name``, or ``name_get`` (then ``name_get_2``...) when another operation has it."""
    candidate = name
    if candidate in taken:
        candidate = f"{name}_{method.lower()}"
    number = 2
    while candidate in taken:
        candidate = f"{name}_{method.lower()}_{number}"
        number += 1
    taken.add(candidate)
    return candidate
