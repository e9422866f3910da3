"""Exceptions -> responses: HTTP errors keep their message, the application's own handlers
win, and anything unhandled is a generic 500, reported once: one error line with the
traceback (which also reaches the standard ``logging`` module) and the app's ``on_error``.

Sits inside the user's middleware, so a CORS middleware also decorates error responses;
the request-context middleware applies the same mapping around them, so an exception a
middleware raises meets the same handlers.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any

import structlog
from lilya.compat import is_async_callable
from lilya.enums import WebSocketState
from lilya.exceptions import HTTPException as LilyaHTTPException
from lilya.websockets import WebSocket

from ravyn.exceptions import error_body
from ravyn.requests import Request

logger = structlog.get_logger("ravyn.errors")

ExceptionHandler = Callable[[Request, Exception], Any]
OnError = Callable[[BaseException, dict[str, Any]], Any]
RESPONSE_STATE = "ravyn.response"
REQUEST_ID = "ravyn.request_id"


class ResponseState:
    """Shared through the scope by the outermost middleware: whether the response started
    (an error after that can no longer become a response) and its status."""

    __slots__ = ("started", "status")

    def __init__(self) -> None:
        self.started = False
        self.status = 500


class ExceptionMapping:
    """The app's exception handlers applied: an exception raised before the response
    started becomes its response."""

    def __init__(
        self,
        handlers: Mapping[type[Exception] | int, ExceptionHandler],
        debug: bool,
        *,
        allowed_methods: Callable[[dict[str, Any]], list[str]] | None = None,
    ) -> None:
        self.handlers = dict(handlers)
        self.debug = debug
        # the methods some route serves the scope's path with, for 405 and OPTIONS
        self.allowed_methods = allowed_methods

    async def answer(self, scope: dict[str, Any], receive: Any, send: Any, exc: Exception) -> None:
        """Send the response for ``exc`` (or close the WebSocket it was raised for)."""
        if scope["type"] == "websocket":
            websocket = WebSocket(scope, receive, send)
            if isinstance(exc, LilyaHTTPException):
                await refuse_websocket(websocket, exc)
            else:
                await close_failed_websocket(websocket, exc)
            return
        if (
            isinstance(exc, LilyaHTTPException)
            and exc.status_code == 405
            and self.allowed_methods is not None
        ):
            methods = self.allowed_methods(scope)
            if "OPTIONS" not in methods:  # answered below when no handler declares it
                methods.append("OPTIONS")
            allow = ", ".join(methods)
            if scope["method"] == "OPTIONS":
                await _send(send, 204, b"", {"allow": allow})
                return
            exc.headers = {"allow": allow}
        handler = self._handler_for(exc)
        if handler is None:
            if isinstance(exc, LilyaHTTPException):
                await send_http_error(send, exc)
            else:
                await send_server_error(scope, send, exc, self.debug)
            return
        if handler is self.handlers.get(500) and not isinstance(exc, LilyaHTTPException):
            report_unhandled(scope, exc)  # the user's 500 page does not hide the failure
        request = Request(scope, receive, send)
        response = handler(request, exc)
        if is_async_callable(handler):
            response = await response
        await response(scope, receive, send)

    def _handler_for(self, exc: Exception) -> ExceptionHandler | None:
        handlers = self.handlers
        if not handlers:
            return None
        is_http = isinstance(exc, LilyaHTTPException)
        if is_http and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
            if is_http and cls is LilyaHTTPException:
                # a handler of Exception is for failures, not for the 404/422 the app
                # answers on purpose: register HTTPException or a status code for those
                return None
        return handlers.get(500)  # an unhandled failure is the 500 a user may answer


class ExceptionMiddleware:
    """Map exceptions raised below it to responses, by ``mapping``."""

    def __init__(self, app: Any, mapping: ExceptionMapping) -> None:
        self.app = app
        self.mapping = mapping

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            state = scope.get(RESPONSE_STATE)
            if state is not None and state.started:
                raise  # too late to answer: the request-context middleware logs it
            await self.mapping.answer(scope, receive, send, exc)


async def refuse_websocket(websocket: WebSocket, exc: LilyaHTTPException) -> None:
    """An HTTP error raised for a WebSocket (a guard's ``NotAuthorized``, a parameter's 422):
    close with 1008, policy violation, and the detail as the reason. Before ``accept`` the
    server answers the handshake with a 403. (Lilya would send the HTTP status as the close
    code, which is not a valid one.)"""
    detail = exc.detail if isinstance(exc.detail, str) else _field_errors(exc.detail)
    logger.info(
        "websocket_refused",
        path=websocket.scope.get("path"),
        status=exc.status_code,
        detail=exc.detail,
    )
    if websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
        reason = detail.encode()[:123].decode(errors="ignore")  # the protocol's limit
        await websocket.close(code=1008, reason=reason)


def _field_errors(detail: Any) -> str:
    """A 422's list of field errors as one line a close reason can carry: "loc: msg; ..."."""
    if isinstance(detail, list):
        parts = [
            f"{'.'.join(map(str, item.get('loc', ())))}: {item.get('msg', '')}"
            for item in detail
            if isinstance(item, dict)
        ]
        if parts:
            return "; ".join(parts)
    return "The connection was refused."


async def close_failed_websocket(websocket: WebSocket, exc: Exception) -> None:
    """Report a WebSocket handler's failure and close with 1011 (internal error) if still open."""
    scope = websocket.scope
    report_error(scope.get("app"), "websocket_handler_failed", exc, path=scope.get("path"))
    if websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
        await websocket.close(code=1011)


async def send_http_error(send: Any, exc: LilyaHTTPException) -> None:
    """``{"detail": ...}`` with the exception's status and headers."""
    status = exc.status_code or 500
    if status in (204, 304):
        await _send(send, status, b"", exc.headers)
        return
    await _send(send, status, error_body(exc.detail), exc.headers)


def report_error(app: Any, event: str, exc: BaseException, **details: Any) -> None:
    """Report an error nothing handled: an error line with its traceback (ravyn's logging
    configuration also hands it to the standard ``logging`` module, where monitoring
    integrations capture it), then the app's ``on_error(exc, details)``, if any."""
    logger.error(event, **details, exc_info=(type(exc), exc, exc.__traceback__))
    call_on_error(getattr(app, "on_error", None), exc, {"event": event, **details})


def call_on_error(on_error: OnError | None, exc: BaseException, details: dict[str, Any]) -> None:
    """Run the hook; its own failure is logged, never raised over the error it reports."""
    if on_error is None:
        return
    try:
        on_error(exc, details)
    except Exception as hook_error:
        logger.error("on_error_failed", error=repr(hook_error), exc_info=hook_error)


def report_unhandled(scope: dict[str, Any], exc: Exception) -> None:
    report_error(
        scope.get("app"),
        "unhandled_exception",
        exc,
        method=scope.get("method"),
        path=scope.get("path"),
        request_id=scope.get(REQUEST_ID),
    )


async def send_server_error(scope: dict[str, Any], send: Any, exc: Exception, debug: bool) -> None:
    """A generic 500 (internals only when ``debug``), reported once."""
    report_unhandled(scope, exc)
    if debug:
        detail: Any = {
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exception(exc),
        }
    else:
        detail = "Internal Server Error"
    await _send(send, 500, error_body(detail), None)


async def _send(send: Any, status: int, body: bytes, headers: Mapping[str, str] | None) -> None:
    raw_headers = [(b"content-length", str(len(body)).encode("latin-1"))]
    if body:
        raw_headers.append((b"content-type", b"application/json"))
    for key, value in (headers or {}).items():
        raw_headers.append((key.lower().encode("latin-1"), value.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
