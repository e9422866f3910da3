"""The bridge's Server-Sent Events endpoint (`text/event-stream`).

Each event is one SSE message: `id:` the event id, `event:` its name (control characters
escaped, so no value can forge a line), `data:` the Event envelope as JSON. A browser's
EventSource reconnects by itself with `Last-Event-ID`, and the endpoint replays what it still
remembers after that id. The stream ends when the server starts to shut down.
"""

from __future__ import annotations

import anyio
import msgspec
import structlog
from lilya.requests import Request
from lilya.responses import JSONResponse
from lilya.types import Receive, Scope, Send

from ravyn.bridge.access import SubscriptionRefused, requested_events
from ravyn.bridge.hub import BridgedEvent, Client, Dropped
from ravyn.bridge.session import CLOSE_TIMEOUT, Endpoint, run_session
from ravyn.connection_abort import abort_if_still_unread

logger = structlog.get_logger("ravyn.bridge")

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # tells nginx not to buffer the stream
]
_PING = b": ping\n\n"
_SHUTTING_DOWN = b": the server is shutting down\n\n"


def _sse_message(event: BridgedEvent) -> bytes:
    name, event_id = _one_line(event.name), _one_line(event.id)
    return f"id: {event_id}\nevent: {name}\ndata: {event.json}\n\n".encode()


def _one_line(value: str) -> str:
    """A field value that cannot break out of its line: control characters (a newline would
    start a forged field, an `event:` of the attacker's choosing) are written escaped.
    ``data:`` needs nothing: JSON escapes them already."""
    return value if value.isprintable() else value.encode("unicode_escape").decode("ascii")


def _control_message(name: str, data: dict[str, object]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (name.encode(), msgspec.json.encode(data))


class BridgeEventStream(Endpoint):
    """ASGI app serving one bridge's SSE connections."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method != "GET":
            response = JSONResponse(
                {"detail": "The event stream is read with GET."},
                status_code=405,
                headers={"allow": "GET"},
            )
            await response(scope, receive, send)
            return
        allowed = await self.access.allowed_for(request)
        if not allowed:
            await _refuse(scope, receive, send, "Not authorized to receive events.")
            return
        try:
            patterns = self.access.resolve(requested_events(request), allowed)
        except SubscriptionRefused as refusal:
            await _refuse(scope, receive, send, str(refusal))
            return
        shutdown = getattr(scope.get("app"), "shutdown", None)  # a Ravyn app's
        last_event_id = request.headers.get("last-event-id")
        client = self.hub.connect(patterns, last_event_id=last_event_id)
        logger.debug("bridge_client_connected", transport="sse", events=patterns)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            await send(_body(b": subscribed to %s\n\n" % ", ".join(patterns).encode()))
            if client.history_gap:
                gap = {"type": "history_gap", "last_event_id": last_event_id}
                await send(_body(_control_message("history_gap", gap)))
            await run_session(
                client,
                lambda: self._send_events(send, client),
                lambda: _disconnected(receive),
                shutdown=shutdown.wait if shutdown is not None else None,
            )
            ending = None
            if client.evicted.is_set():
                logger.warning("bridge_client_evicted", transport="sse", policy="disconnect")
                abort_if_still_unread(scope, send, after=CLOSE_TIMEOUT)
                ending = b""
            elif shutdown is not None and shutdown.is_set():
                ending = _SHUTTING_DOWN  # the browser's EventSource reconnects by itself
            if ending is not None:
                with anyio.move_on_after(CLOSE_TIMEOUT):
                    await send({"type": "http.response.body", "body": ending, "more_body": False})
        except* OSError:
            pass  # the client went away while we wrote to it
        finally:
            self.hub.disconnect(client)
            logger.debug("bridge_client_disconnected", transport="sse")

    async def _send_events(self, send: Send, client: Client) -> None:
        async for item in client.stream(self.ping_interval):
            if isinstance(item, BridgedEvent):
                await send(_body(_sse_message(item)))
            elif isinstance(item, Dropped):
                notice = {"type": "overflow", "dropped": item.count}
                await send(_body(_control_message("overflow", notice)))
            else:
                await send(_body(_PING))


def _body(chunk: bytes) -> dict[str, object]:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _refuse(scope: Scope, receive: Receive, send: Send, message: str) -> None:
    logger.info("bridge_refused", transport="sse", reason=message)
    await JSONResponse({"detail": message}, status_code=403)(scope, receive, send)
