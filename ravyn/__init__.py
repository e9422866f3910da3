"""ravyn: an async web framework on Lilya whose heart is an event bus of observables.

The names below are loaded on first use (PEP 562): ``import ravyn.events`` or a worker
process (``ravyn worker``) loads no web layer, while ``from ravyn import Ravyn, get``
works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Ravyn": "ravyn.app",
    "BackgroundTask": "ravyn.background",
    "BackgroundTasks": "ravyn.background",
    "EventBridge": "ravyn.bridge",
    "Event": "ravyn.events",
    "EventBus": "ravyn.events",
    "Retry": "ravyn.events",
    "RetryPolicy": "ravyn.events",
    "observable": "ravyn.events",
    "trigger_event": "ravyn.events",
    "HTTPException": "ravyn.exceptions",
    "NotAuthorized": "ravyn.exceptions",
    "NotFound": "ravyn.exceptions",
    "PermissionDenied": "ravyn.exceptions",
    "Extension": "ravyn.extensions",
    "Request": "ravyn.requests",
    "JSONResponse": "ravyn.responses",
    "Response": "ravyn.responses",
    "Body": "ravyn.routing",
    "Controller": "ravyn.routing",
    "Cookie": "ravyn.routing",
    "File": "ravyn.routing",
    "Form": "ravyn.routing",
    "Gateway": "ravyn.routing",
    "Guard": "ravyn.routing",
    "Header": "ravyn.routing",
    "Include": "ravyn.routing",
    "Inject": "ravyn.routing",
    "Query": "ravyn.routing",
    "UploadFile": "ravyn.routing",
    "WebSocketGateway": "ravyn.routing",
    "after_request": "ravyn.routing",
    "before_request": "ravyn.routing",
    "delete": "ravyn.routing",
    "get": "ravyn.routing",
    "head": "ravyn.routing",
    "options": "ravyn.routing",
    "patch": "ravyn.routing",
    "post": "ravyn.routing",
    "put": "ravyn.routing",
    "route": "ravyn.routing",
    "websocket": "ravyn.routing",
    "RavynSettings": "ravyn.settings",
    "WebSocket": "ravyn.websockets",
    "WebSocketDisconnect": "ravyn.websockets",
}
"""Each public name and the module it comes from."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ravyn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and IDEs see (explicit re-exports)
    from ravyn.app import Ravyn as Ravyn
    from ravyn.background import BackgroundTask as BackgroundTask
    from ravyn.background import BackgroundTasks as BackgroundTasks
    from ravyn.bridge import EventBridge as EventBridge
    from ravyn.events import Event as Event
    from ravyn.events import EventBus as EventBus
    from ravyn.events import Retry as Retry
    from ravyn.events import RetryPolicy as RetryPolicy
    from ravyn.events import observable as observable
    from ravyn.events import trigger_event as trigger_event
    from ravyn.exceptions import HTTPException as HTTPException
    from ravyn.exceptions import NotAuthorized as NotAuthorized
    from ravyn.exceptions import NotFound as NotFound
    from ravyn.exceptions import PermissionDenied as PermissionDenied
    from ravyn.extensions import Extension as Extension
    from ravyn.requests import Request as Request
    from ravyn.responses import JSONResponse as JSONResponse
    from ravyn.responses import Response as Response
    from ravyn.routing import Body as Body
    from ravyn.routing import Controller as Controller
    from ravyn.routing import Cookie as Cookie
    from ravyn.routing import File as File
    from ravyn.routing import Form as Form
    from ravyn.routing import Gateway as Gateway
    from ravyn.routing import Guard as Guard
    from ravyn.routing import Header as Header
    from ravyn.routing import Include as Include
    from ravyn.routing import Inject as Inject
    from ravyn.routing import Query as Query
    from ravyn.routing import UploadFile as UploadFile
    from ravyn.routing import WebSocketGateway as WebSocketGateway
    from ravyn.routing import after_request as after_request
    from ravyn.routing import before_request as before_request
    from ravyn.routing import delete as delete
    from ravyn.routing import get as get
    from ravyn.routing import head as head
    from ravyn.routing import options as options
    from ravyn.routing import patch as patch
    from ravyn.routing import post as post
    from ravyn.routing import put as put
    from ravyn.routing import route as route
    from ravyn.routing import websocket as websocket
    from ravyn.settings import RavynSettings as RavynSettings
    from ravyn.websockets import WebSocket as WebSocket
    from ravyn.websockets import WebSocketDisconnect as WebSocketDisconnect
