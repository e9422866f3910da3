"""The outermost middleware: a request id per request, one access line, the last safety net.

The id comes from ``X-Request-ID`` (made anew when absent) and is echoed in the response
header. It is also the correlation id of every event the request emits, with its W3C
``traceparent``, so an event chain leads back to the request that started it.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from ravyn.events.context import correlation_context, request_trace_var
from ravyn.middleware.access_log import write_access_line
from ravyn.middleware.errors import (
    REQUEST_ID,
    RESPONSE_STATE,
    ExceptionMapping,
    ResponseState,
    report_error,
    send_server_error,
)

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_W3C_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


class RequestContextMiddleware:
    """Request id, correlation context and access log for HTTP; request id for WebSockets.

    ``errors``: the app's exception mapping, applied to what the layers below raise (the
    user's middleware): as a second ``ExceptionMiddleware`` around them would, without a
    layer more per request."""

    def __init__(
        self, app: Any, debug: bool = False, *, errors: ExceptionMapping | None = None
    ) -> None:
        self.app = app
        self.debug = debug
        self.errors = errors

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope_type = scope["type"]
        if scope_type != "http" and scope_type != "websocket":
            await self.app(scope, receive, send)
            return
        request_id, traceparent = _trace_headers(scope["headers"])
        scope[REQUEST_ID] = request_id
        if scope_type == "websocket":
            with correlation_context(request_id, traceparent):
                try:
                    await self.app(scope, receive, send)
                except Exception as exc:
                    if self.errors is None:
                        raise
                    await self.errors.answer(scope, receive, send, exc)
            return
        state = ResponseState()
        scope[RESPONSE_STATE] = state
        request_id_header = (REQUEST_ID_HEADER, request_id.encode("latin-1"))

        async def send_with_request_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state.started = True
                state.status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        started_at = time.perf_counter()
        trace_token = request_trace_var.set((request_id, traceparent))  # correlation_context
        try:
            try:
                await self.app(scope, receive, send_with_request_id)
            except Exception as exc:
                if self.errors is None or state.started:
                    raise
                await self.errors.answer(scope, receive, send_with_request_id, exc)
        except Exception as exc:  # unmapped, or the exception handler's own failure
            if state.started:
                report_error(
                    scope.get("app"),
                    "exception_after_response_started",
                    exc,
                    method=scope["method"],
                    path=scope["path"],
                    request_id=request_id,
                )
            else:
                await send_server_error(scope, send_with_request_id, exc, self.debug)
        finally:
            request_trace_var.reset(trace_token)
            write_access_line(
                scope["method"],
                scope["path"],
                state.status,
                round((time.perf_counter() - started_at) * 1000, 3),
                request_id,
            )


def _trace_headers(headers: Any) -> tuple[str, str | None]:
    request_id = None
    traceparent = None
    for key, value in headers:
        if key == REQUEST_ID_HEADER or key == b"X-Request-ID":
            if _SAFE_REQUEST_ID.fullmatch(value):  # an id from outside must not forge log lines
                request_id = value.decode("latin-1")
        elif key == b"traceparent" and _W3C_TRACEPARENT.fullmatch(value):
            traceparent = value.decode("latin-1")  # other values are not passed on to events
    return request_id or os.urandom(16).hex(), traceparent
