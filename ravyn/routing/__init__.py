"""Routing: handler decorators, parameter binding, dependencies, gateways and includes."""

from ravyn.routing.dependencies import Inject
from ravyn.routing.gateways import Gateway, Include, WebSocketGateway
from ravyn.routing.handlers import (
    RouteHandler,
    WebSocketHandler,
    delete,
    get,
    head,
    options,
    patch,
    post,
    put,
    route,
    websocket,
)
from ravyn.routing.params import Body, Cookie, Header, Query

__all__ = [
    "Body",
    "Cookie",
    "Gateway",
    "Header",
    "Include",
    "Inject",
    "Query",
    "RouteHandler",
    "WebSocketGateway",
    "WebSocketHandler",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "websocket",
]
