"""EventBridge: stream chosen events from the bus to WebSocket and SSE clients.

The bridge is an ASGI app mounted under a path (`Include("/events", app=bridge)`); it serves
`<path>/ws` (WebSocket), `<path>/stream` (Server-Sent Events) and, when asked, the
development page `<path>/live`. It registers one broadcast listener for its `events` in the
active registry when it is built, so that in a cluster every process receives each event
once and serves it to its own connections: each client gets each event exactly once,
whichever process emitted it.
"""

from __future__ import annotations

from collections.abc import Sequence

from lilya.responses import JSONResponse
from lilya.types import Receive, Scope, Send
from lilya.websockets import WebSocketClose

from ravyn.bridge.access import Access, Authorize
from ravyn.bridge.hub import Hub, Overflow
from ravyn.bridge.page import serve_live_page
from ravyn.bridge.sse import BridgeEventStream
from ravyn.bridge.websocket import POLICY_VIOLATION, BridgeWebSocket
from ravyn.events.envelope import Event
from ravyn.events.listener import Listener
from ravyn.events.registry import Registry, active_registry, is_pattern, matches


class EventBridge:
    """Streams the listed events (names or patterns) to WebSocket and SSE clients.

    `authorize(connection)` (sync or async) sees the headers, cookies and query of each
    connection and returns True (everything listed), False (refused) or the names/patterns
    this connection may receive; it can only narrow `events`, never widen them. Each client
    has a queue of `queue_size` events; when it is full, `overflow="drop_oldest"` drops the
    oldest and tells the client how many, `overflow="disconnect"` closes the connection.
    Idle connections get a ping every `ping_interval` seconds. The last `history_size`
    events are kept in memory for SSE `Last-Event-ID` resume.
    """

    def __init__(
        self,
        events: Sequence[str],
        *,
        authorize: Authorize | None = None,
        queue_size: int = 100,
        overflow: Overflow = "drop_oldest",
        ping_interval: float = 20.0,
        history_size: int = 1000,
        live_page: bool = False,
        registry: Registry | None = None,
    ) -> None:
        if ping_interval <= 0:
            raise ValueError(
                f"ping_interval must be a positive number of seconds, got {ping_interval}."
            )
        self.access = Access(events, authorize, matches=matches, is_pattern=is_pattern)
        self.hub = Hub(
            matches=matches, queue_size=queue_size, overflow=overflow, history_size=history_size
        )
        self.live_page = live_page
        self._websocket = BridgeWebSocket(self.hub, self.access, ping_interval)
        self._stream = BridgeEventStream(self.hub, self.access, ping_interval)
        registry = registry if registry is not None else active_registry()
        self.listener = Listener(self._on_event, self.access.events, broadcast=True)
        self.listener.name = _listener_name(registry, self.access.events)
        registry.add_listener(self.listener)

    @property
    def events(self) -> tuple[str, ...]:
        return self.access.events

    async def _on_event(self, event: Event) -> None:
        """The broadcast listener: hands the event to the hub, never waits for a client."""
        self.hub.publish(event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _route_path(scope)
        if scope["type"] == "websocket":
            if route == "/ws":
                await self._websocket(scope, receive, send)
            else:
                await WebSocketClose(POLICY_VIOLATION, "the bridge's WebSocket is at /ws")(
                    scope, receive, send
                )
        elif route == "/stream":
            await self._stream(scope, receive, send)
        elif route == "/live" and self.live_page:
            await serve_live_page(scope, receive, send)
        else:
            await JSONResponse({"detail": "Not Found"}, status_code=404)(scope, receive, send)


def _listener_name(registry: Registry, events: tuple[str, ...]) -> str:
    """The same in every process that builds the same bridges in the same order.

    A bound method's default name would be shared by every bridge, and the registry keeps
    one listener per name: a second bridge with the same events gets a numbered name.
    """
    name = base = f"{__name__}:EventBridge({','.join(events)})"
    taken = {listener.name for listener in registry.listeners}
    number = 1
    while name in taken:
        number += 1
        name = f"{base}#{number}"
    return name


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    return path[len(root_path) :] if root_path and path.startswith(root_path) else path
