"""The bridge's WebSocket endpoint: events as JSON text messages, subscriptions by message.

Server messages are either an Event envelope (it has `name`, `id`, `payload`, ...) or a
control message with a `type`: `subscribed`, `overflow`, `ping`, `error`. The one client
message is `{"subscribe": [...]}`, which replaces the client's subscription.
"""

from __future__ import annotations

import anyio
import msgspec
import structlog
from lilya.types import Receive, Scope, Send
from lilya.websockets import WebSocket, WebSocketDisconnect

from ravyn.bridge.access import SubscriptionRefused, requested_events
from ravyn.bridge.hub import BridgedEvent, Client, Dropped
from ravyn.bridge.session import CLOSE_TIMEOUT, Endpoint, run_session
from ravyn.connection_abort import abort_if_still_unread

logger = structlog.get_logger("ravyn.bridge")

POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
_PING = '{"type":"ping"}'
_MAX_CLOSE_REASON_BYTES = 123


class SubscribeMessage(msgspec.Struct, forbid_unknown_fields=True):
    subscribe: list[str]


_decode_subscribe = msgspec.json.Decoder(SubscribeMessage).decode


class BridgeWebSocket(Endpoint):
    """ASGI app serving one bridge's WebSocket connections."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        allowed = await self.access.allowed_for(websocket)
        if not allowed:
            logger.info("bridge_refused", transport="websocket", reason="not authorized")
            await websocket.close(POLICY_VIOLATION, "not authorized to receive events")
            return
        await websocket.accept()
        try:
            patterns = self.access.resolve(requested_events(websocket), allowed)
        except SubscriptionRefused as refusal:
            await _refuse(websocket, str(refusal))
            return
        client = self.hub.connect(patterns)
        logger.debug("bridge_client_connected", transport="websocket", events=patterns)
        try:
            await _send_subscribed(websocket, patterns)
            refusal = await run_session(
                client,
                lambda: self._send_events(websocket, client),
                lambda: self._read_subscriptions(websocket, client, allowed),
            )
            if refusal is not None:
                await _refuse(websocket, refusal)
            elif client.evicted.is_set():
                logger.warning("bridge_client_evicted", transport="websocket", policy="disconnect")
                abort_if_still_unread(scope, send, after=CLOSE_TIMEOUT)
                with anyio.move_on_after(CLOSE_TIMEOUT):
                    await websocket.close(TRY_AGAIN_LATER, "too slow: the event queue overflowed")
        except* (WebSocketDisconnect, OSError):
            pass  # the client went away: nothing left to tell it
        finally:
            self.hub.disconnect(client)
            logger.debug("bridge_client_disconnected", transport="websocket")

    async def _send_events(self, websocket: WebSocket, client: Client) -> None:
        async for item in client.stream(self.ping_interval):
            if isinstance(item, BridgedEvent):
                await websocket.send_text(item.json)
            elif isinstance(item, Dropped):
                await websocket.send_text(f'{{"type":"overflow","dropped":{item.count}}}')
            else:
                await websocket.send_text(_PING)

    async def _read_subscriptions(
        self, websocket: WebSocket, client: Client, allowed: tuple[str, ...]
    ) -> str | None:
        """Apply subscribe messages until the client leaves (None) or asks too much (why)."""
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return None
            try:
                requested = _decode_subscribe(message.get("text") or message.get("bytes") or b"")
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as error:
                await _send_error(websocket, f'Expected {{"subscribe": ["event", ...]}}: {error}')
                continue
            try:
                patterns = self.access.resolve(requested.subscribe, allowed)
            except SubscriptionRefused as refusal:
                return str(refusal)
            self.hub.subscribe(client, patterns)
            await _send_subscribed(websocket, patterns)


async def _send_subscribed(websocket: WebSocket, patterns: tuple[str, ...]) -> None:
    await websocket.send_text(
        msgspec.json.encode({"type": "subscribed", "events": patterns}).decode()
    )


async def _send_error(websocket: WebSocket, message: str) -> None:
    await websocket.send_text(msgspec.json.encode({"type": "error", "message": message}).decode())


async def _refuse(websocket: WebSocket, message: str) -> None:
    logger.info("bridge_refused", transport="websocket", reason=message)
    await _send_error(websocket, message)
    reason = message.encode()[:_MAX_CLOSE_REASON_BYTES].decode(errors="ignore")
    await websocket.close(POLICY_VIOLATION, reason)
