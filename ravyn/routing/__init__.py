"""Routing: handler decorators, parameter binding, dependencies, gateways and includes."""

from ravyn.routing.controllers import Controller, after_request, before_request
from ravyn.routing.dependencies import Inject
from ravyn.routing.gateways import Gateway, Include, WebSocketGateway
from ravyn.routing.guards import Guard
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
from ravyn.routing.params import Body, Cookie, File, Form, Header, Query
from ravyn.routing.uploads import UploadFile

__all__ = [
    "Body",
    "Controller",
    "Cookie",
    "File",
    "Form",
    "Gateway",
    "Guard",
    "Header",
    "Include",
    "Inject",
    "Query",
    "RouteHandler",
    "UploadFile",
    "WebSocketGateway",
    "WebSocketHandler",
    "after_request",
    "before_request",
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
