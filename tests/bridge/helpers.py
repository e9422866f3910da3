"""Helpers of the bridge tests: an app with a bridge and a bus, real clients."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from websockets.asyncio.client import ClientConnection, connect

from ravyn.app import Ravyn
from ravyn.bridge import EventBridge
from ravyn.events import Event, use_registry
from ravyn.routing import Include

from .servers import RunningServer


class BridgedApp:
    """A Ravyn app with a bridge mounted at /events, in a registry of its own."""

    def __init__(self, **bridge_options: Any) -> None:
        with use_registry():
            self.bridge = EventBridge(**{"events": ["new_comment", "user.*"], **bridge_options})
            self.app = Ravyn(routes=[Include("/events", app=self.bridge)])
        self.bus = self.app.events

    async def emit(self, name: str, payload: Any = None) -> Event:
        """Emit and wait for the bridge's listener: the event is in the clients' queues."""
        return await self.bus.emit(name, payload, wait=True)


async def receive_json(websocket: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        return json.loads(await websocket.recv())


@asynccontextmanager
async def subscribed(
    server: RunningServer, query: str = "", *, slow: bool = False
) -> AsyncIterator[ClientConnection]:
    """A WebSocket client whose subscription is confirmed (the hub has registered it).

    A `slow` client has tiny receive buffers, so that when it stops reading the server
    feels it after a few hundred kilobytes instead of the tens of megabytes Linux allows.
    """
    options: dict[str, Any] = {}
    if slow:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
        sock.connect(("127.0.0.1", server.port))
        options = {"sock": sock}
    async with connect(f"{server.ws_url}/events/ws{query}", **options) as websocket:
        confirmation = await receive_json(websocket)
        assert confirmation["type"] == "subscribed", confirmation
        yield websocket


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for state that another task changes, e.g. the hub forgetting a client."""
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(0.005)


@dataclass
class SSEMessage:
    event: str = "message"
    data: str = ""
    id: str | None = None
    comment: str | None = None

    def json(self) -> dict[str, Any]:
        return json.loads(self.data)


async def sse_messages(response: httpx.Response) -> AsyncIterator[SSEMessage]:
    """The messages (and comment lines, as messages with `comment`) of an SSE response."""
    message = SSEMessage()
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield SSEMessage(comment=line[1:].strip())
        elif not line:
            if message.data or message.id:
                yield message
            message = SSEMessage()
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                message.data = f"{message.data}\n{value}" if message.data else value
            elif field == "event":
                message.event = value
            elif field == "id":
                message.id = value


async def next_sse(messages: AsyncIterator[SSEMessage], timeout: float = 5.0) -> SSEMessage:
    """The next message that is not a comment."""
    with anyio.fail_after(timeout):
        async for message in messages:
            if message.comment is None:
                return message
    raise AssertionError("the event stream ended")
