"""``TestClient``: call an ASGI app in-process from synchronous tests, lifespan included.

``with TestClient(app) as client:`` runs the app's lifespan (bus, startup code, scheduler)
in a background event loop for the block; each request or WebSocket message is handed to
that loop. Without ``with``, requests still work, and the lifespan does not run.

``TestClient(app, event_transport="memory://")`` runs the app on another event transport
for the block (its own is put back after): a test needs no Redis or NATS.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.from_thread
import msgspec
from lilya.websockets import WebSocketDisconnect

try:
    import httpx
except ImportError:
    raise ImportError(
        "ravyn.testclient needs httpx: install ravyn with its 'testing' extra"
    ) from None

_APP_FINISHED = "ravyn.testclient.app_finished"


class TestClient(httpx.Client):
    """An ``httpx.Client`` whose requests go straight to ``app`` (no network, no server)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: Any,
        base_url: str = "http://testserver",
        *,
        event_transport: Any = None,
        **kwargs: Any,
    ) -> None:
        self.app = app
        self.event_transport = event_transport
        self._portal: anyio.from_thread.BlockingPortal | None = None
        self._exit_portal: Any = None
        self._exit_lifespan: Any = None
        self._app_transport: Any = None
        super().__init__(base_url=base_url, transport=_PortalTransport(self), **kwargs)

    def __enter__(self) -> TestClient:
        if self.event_transport is not None:
            self._swap_transport()
        portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = portal_cm.__enter__()
        self._exit_portal = portal_cm.__exit__
        lifespan_cm = self._portal.wrap_async_context_manager(_lifespan(self.app))
        try:
            lifespan_cm.__enter__()
        except BaseException:
            self._close_portal()
            self._restore_transport()
            raise
        self._exit_lifespan = lifespan_cm.__exit__
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if self._exit_lifespan is not None:
                self._exit_lifespan(*exc_info)
        finally:
            self._exit_lifespan = None
            self._close_portal()
            self._restore_transport()
            super().__exit__(*exc_info)

    def _swap_transport(self) -> None:
        """The app's bus takes ``event_transport`` (a URL or a Transport) for the block."""
        from ravyn.events.transports import transport_from_url

        bus = self.app.events
        if bus.running:
            raise RuntimeError("TestClient(event_transport=...): the app is already running")
        transport = self.event_transport
        self._app_transport = bus.transport
        bus.transport = transport_from_url(transport) if isinstance(transport, str) else transport

    def _restore_transport(self) -> None:
        if self.event_transport is not None:
            self.app.events.transport = self._app_transport

    def _close_portal(self) -> None:
        if self._exit_portal is not None:
            self._exit_portal(None, None, None)
        self._portal = None
        self._exit_portal = None

    @contextmanager
    def portal(self) -> Iterator[anyio.from_thread.BlockingPortal]:
        """The running loop's portal, or a temporary one outside ``with``."""
        if self._portal is not None:
            yield self._portal
            return
        with anyio.from_thread.start_blocking_portal() as portal:
            yield portal

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until no listener of the app's bus is in flight.

        A route's listeners run after its response, so a test that asserts on what they did
        waits here rather than sleeping; fails with ``TimeoutError`` after ``timeout`` s.
        """

        async def idle() -> None:
            with anyio.fail_after(timeout):
                await self.app.events.idle()

        with self.portal() as portal:
            portal.call(idle)

    @contextmanager
    def websocket_connect(
        self, path: str, headers: dict[str, str] | None = None, subprotocols: list[str] = ()
    ) -> Iterator[WebSocketSession]:
        """Open a WebSocket to ``path``; raises ``WebSocketDisconnect`` if the app refuses."""
        url = urlsplit(path)
        raw_headers = [(b"host", b"testserver")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": url.path,
            "raw_path": url.path.encode(),
            "root_path": "",
            "query_string": url.query.encode(),
            "headers": raw_headers,
            "client": ("testclient", 50000),
            "server": ("testserver", 80),
            "subprotocols": list(subprotocols),
            "state": {},
        }
        with self.portal() as portal:
            session = WebSocketSession(self.app, scope, portal)
            session.connect()
            try:
                yield session
            finally:
                session.disconnect()


class _PortalTransport(httpx.BaseTransport):
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        bus = getattr(self.client.app, "events", None)  # a Ravyn app's; any ASGI app works
        if self.client._portal is None and bus is not None and bus.stopped:
            raise RuntimeError(
                "The app's event bus was stopped when an earlier `with TestClient(app)` "
                "ended, so the events of this request would be lost: use "
                "`with TestClient(app) as client:` here too (it starts the bus again)."
            )
        request.read()  # a body given as a sync iterator becomes bytes the ASGI side can send
        with self.client.portal() as portal:
            status, headers, content = portal.call(self._call_app, request)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _call_app(self, request: httpx.Request) -> tuple[int, Any, bytes]:
        transport = httpx.ASGITransport(app=self.client.app)
        response = await transport.handle_async_request(request)
        content = await response.aread()
        return response.status_code, response.headers, content


class WebSocketSession:
    """One test WebSocket: ``send_text``/``send_json``/``send_bytes`` and the receive twins."""

    def __init__(self, app: Any, scope: dict[str, Any], portal: Any) -> None:
        self.app = app
        self.scope = scope
        self.portal = portal
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[dict](math.inf)
        self._app_outbox, self._from_app = anyio.create_memory_object_stream[dict](math.inf)
        self._task: Any = None
        self.accepted_subprotocol: str | None = None
        self._raised: BaseException | None = None

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._app_inbox.receive, self._app_outbox.send)
        except BaseException as exc:
            await self._app_outbox.send({"type": _APP_FINISHED, "error": exc})
            raise
        await self._app_outbox.send({"type": _APP_FINISHED, "error": None})

    def connect(self) -> None:
        self._task = self.portal.start_task_soon(self._run)
        self.send({"type": "websocket.connect"})
        message = self.receive()
        if message["type"] != "websocket.accept":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        self.accepted_subprotocol = message.get("subprotocol")

    def disconnect(self, code: int = 1000) -> None:
        if self._task is None:
            return
        if not self._task.done():
            self.send({"type": "websocket.disconnect", "code": code})
        task, self._task = self._task, None
        try:
            task.result(timeout=10)
        except Exception as exc:
            if exc is not self._raised:  # not yet seen by the test through receive()
                raise

    def send(self, message: dict[str, Any]) -> None:
        self.portal.call(self._to_app.send, message)

    def receive(self) -> dict[str, Any]:
        message = self.portal.call(self._from_app.receive)
        if message["type"] == _APP_FINISHED:
            if message["error"] is not None:
                self._raised = message["error"]
                raise message["error"]
            raise WebSocketDisconnect(1000, "the application ended the connection")
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any) -> None:
        self.send_text(msgspec.json.encode(data).decode())

    def receive_text(self) -> str:
        return self.receive()["text"]

    def receive_bytes(self) -> bytes:
        return self.receive()["bytes"]

    def receive_json(self) -> Any:
        message = self.receive()
        return msgspec.json.decode(message.get("text") or message.get("bytes") or b"")

    def close(self, code: int = 1000) -> None:
        self.disconnect(code)


@asynccontextmanager
async def _lifespan(app: Any) -> AsyncIterator[None]:
    """Drive the ASGI lifespan protocol: startup before the block, shutdown after it.

    Errors are raised outside the task group, so a test sees the app's own exception
    rather than an ExceptionGroup.
    """
    to_app, app_inbox = anyio.create_memory_object_stream[dict](math.inf)
    app_outbox, from_app = anyio.create_memory_object_stream[dict](math.inf)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    error: BaseException | None = None

    async def run_app() -> None:
        try:
            await app(scope, app_inbox.receive, app_outbox.send)
        except Exception as exc:  # reported through the protocol below
            await app_outbox.send({"type": _APP_FINISHED, "error": exc})

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(run_app)
        try:
            await to_app.send({"type": "lifespan.startup"})
            await _expect(from_app, "lifespan.startup.complete")
        except Exception as exc:
            error = exc
            task_group.cancel_scope.cancel()
        if error is None:
            try:
                yield
            except Exception as exc:
                error = exc
            try:
                await to_app.send({"type": "lifespan.shutdown"})
                await _expect(from_app, "lifespan.shutdown.complete")
            except Exception as exc:
                error = error or exc
    if error is not None:
        raise error


async def _expect(from_app: Any, expected: str) -> None:
    message = await from_app.receive()
    if message["type"] == expected:
        return
    if message["type"].endswith(".failed"):
        with anyio.move_on_after(1):  # an app re-raises after reporting: give the test that
            message = await from_app.receive()
    if message["type"] == _APP_FINISHED and message["error"] is not None:
        raise message["error"]
    raise RuntimeError(f"The application's lifespan failed: {message}")
