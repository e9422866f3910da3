"""Handler return values -> HTTP responses, without building a Response object on the hot path.

A ``Response`` passes through; a 204/304 status sends no body (whatever the handler returned:
it still is the payload of the route's events); anything else
is JSON encoded by msgspec (dict, list, Struct, dataclass, scalars; a pydantic model through
its ``model_dump``), or sent as is when a non-JSON ``media_type`` is declared and the value
is ``str``/``bytes``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from lilya.background import Tasks
from lilya.responses import Response

from ravyn.routing.json_bodies import pydantic_model

JSON = "application/json"
_NO_BODY_STATUSES = frozenset({204, 304})


def _encode_other(value: Any) -> Any:
    """What msgspec cannot encode itself: a pydantic model, as its JSON data (msgspec calls
    this only for such values, so other responses pay nothing)."""
    if pydantic_model(type(value)) is not None:
        return value.model_dump(mode="json")
    raise NotImplementedError  # msgspec then raises its TypeError naming the type


_encode = msgspec.json.Encoder(enc_hook=_encode_other).encode


class ResponseSpec:
    """What a route declared about its responses: status, media type, response class."""

    __slots__ = ("status_code", "media_type", "response_class", "_content_type")

    def __init__(
        self, status_code: int, media_type: str, response_class: type[Response] | None
    ) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.response_class = response_class
        content_type = media_type
        if content_type.startswith("text/") and "charset" not in content_type:
            content_type += "; charset=utf-8"
        self._content_type = content_type.encode("latin-1")

    async def send(
        self, result: Any, scope: dict[str, Any], receive: Any, send: Any, tasks: Tasks | None
    ) -> None:
        if isinstance(result, Response):
            if tasks is not None and result.background is None:
                result.background = tasks
            await result(scope, receive, send)
            return
        if self.response_class is not None:
            response = self.response_class(result, status_code=self.status_code, background=tasks)
            await response(scope, receive, send)
            return
        status = self.status_code
        if status in _NO_BODY_STATUSES:  # HTTP forbids a body: a returned value is not sent
            await send({"type": "http.response.start", "status": status, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            body = self.body(result)
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", self._content_type),
                        (b"content-length", str(len(body)).encode("latin-1")),
                    ],
                }
            )
            if scope["method"] == "HEAD":  # same headers as GET, no body
                body = b""
            await send({"type": "http.response.body", "body": body})
        if tasks is not None:
            await tasks()

    def body(self, result: Any) -> bytes:
        """A returned value as the response body: JSON, or as is for ``str``/``bytes``
        under a non-JSON media type."""
        if isinstance(result, (str, bytes)) and self.media_type != JSON:
            return result.encode() if isinstance(result, str) else result
        return _encode(result)

    def to_response(self, result: Any, tasks: Tasks | None) -> Response:
        """A returned value as a ``Response`` object, for code that inspects or changes the
        response before it is sent (a controller's ``after_request``). The hot path sends
        without building one."""
        if isinstance(result, Response):
            if tasks is not None and result.background is None:
                result.background = tasks
            return result
        if self.response_class is not None:
            return self.response_class(result, status_code=self.status_code, background=tasks)
        if self.status_code in _NO_BODY_STATUSES:
            return Response(b"", status_code=self.status_code, background=tasks)
        return Response(
            self.body(result),
            status_code=self.status_code,
            media_type=self.media_type,
            background=tasks,
        )
