"""The documentation routes an app mounts: ``openapi_url``, ``docs_url`` (Swagger UI and its
assets), ``asyncapi_url`` and ``events_docs_url``; each is off when its URL is None. None of
them is in the OpenAPI document itself."""

from __future__ import annotations

from typing import Any

from lilya.routing import Path

from ravyn.asyncapi.document import asyncapi_document
from ravyn.asyncapi.page import events_page
from ravyn.openapi.document import openapi_document
from ravyn.openapi.endpoints import CachedEndpoint, json_document
from ravyn.openapi.swagger_ui import ASSETS, assets_directory, swagger_page


def documentation_routes(app: Any) -> list[Path]:
    """The Lilya routes serving ``app``'s documents and pages, per its ``*_url`` settings."""
    routes = []

    def events_version() -> tuple[int, int]:  # the AsyncAPI document names sending routes
        return app.route_changes, app.events.registry.generation

    if app.openapi_url:
        openapi = json_document(lambda: openapi_document(app), lambda: app.route_changes)
        routes.append(_get(app.openapi_url, openapi))
    if app.docs_url and app.openapi_url:
        directory = assets_directory()
        assets_url = app.docs_url.rstrip("/") + "/assets"

        def page(root_path: str) -> bytes:
            return swagger_page(
                f"{app.title} - Swagger UI", root_path + app.openapi_url, root_path + assets_url
            )

        routes.append(_get(app.docs_url, CachedEndpoint(page, "text/html; charset=utf-8")))
        for name, content_type in ASSETS.items():
            routes.append(_get(f"{assets_url}/{name}", _file(directory / name, content_type)))
    if app.asyncapi_url:
        asyncapi = json_document(lambda: asyncapi_document(app), events_version)
        routes.append(_get(app.asyncapi_url, asyncapi))
    if app.events_docs_url:
        events = CachedEndpoint(
            lambda _: events_page(asyncapi_document(app)),
            "text/html; charset=utf-8",
            events_version,
        )
        routes.append(_get(app.events_docs_url, events))
    return routes


def _file(path: Any, content_type: str) -> CachedEndpoint:
    """An asset, read from the disk at its first request."""
    return CachedEndpoint(lambda _root_path: path.read_bytes(), content_type)


def _get(path: str, endpoint: CachedEndpoint) -> Path:
    return Path(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)
