"""ravyn: an async web framework on Lilya whose heart is an event bus of observables."""

from ravyn.app import Ravyn
from ravyn.background import BackgroundTask, BackgroundTasks
from ravyn.bridge import EventBridge
from ravyn.events import Event, EventBus, Retry, observable, trigger_event
from ravyn.exceptions import (
    HTTPException,
    NotAuthorized,
    NotFound,
    PermissionDenied,
)
from ravyn.extensions import Extension
from ravyn.requests import Request
from ravyn.responses import JSONResponse, Response
from ravyn.routing import (
    Body,
    Controller,
    Cookie,
    File,
    Form,
    Gateway,
    Guard,
    Header,
    Include,
    Inject,
    Query,
    UploadFile,
    WebSocketGateway,
    after_request,
    before_request,
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
from ravyn.settings import RavynSettings
from ravyn.websockets import WebSocket, WebSocketDisconnect

__version__ = "0.1.0"

__all__ = [
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "Controller",
    "Cookie",
    "Event",
    "EventBridge",
    "EventBus",
    "Extension",
    "File",
    "Form",
    "Gateway",
    "Guard",
    "HTTPException",
    "Header",
    "Include",
    "Inject",
    "JSONResponse",
    "NotAuthorized",
    "NotFound",
    "PermissionDenied",
    "Query",
    "Ravyn",
    "RavynSettings",
    "Request",
    "Response",
    "Retry",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketGateway",
    "after_request",
    "before_request",
    "delete",
    "get",
    "head",
    "observable",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "trigger_event",
    "websocket",
]
