"""How one connection runs: its event pump next to a watcher of the client's side.

Whichever ends first ends the connection: the client leaving (or, on a WebSocket, asking
for what it may not have), the hub evicting a client that fell too far behind (the pump
may then be stuck writing to a client that does not read, so it is cancelled, not awaited),
or the server starting to shut down (an event stream never ends by itself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

from ravyn.bridge.access import Access
from ravyn.bridge.hub import Client, Hub

T = TypeVar("T")

CLOSE_TIMEOUT = 2.0
"""Seconds an evicted client has to take its goodbye before the connection is reset."""


class Endpoint:
    """What both endpoints serve from: the hub, the access rules, the ping interval."""

    def __init__(self, hub: Hub, access: Access, ping_interval: float) -> None:
        self.hub = hub
        self.access = access
        self.ping_interval = ping_interval


async def run_session(
    client: Client,
    send_events: Callable[[], Awaitable[None]],
    watch_client: Callable[[], Awaitable[T]],
    *,
    shutdown: Callable[[], Awaitable[None]] | None = None,
) -> T | None:
    """The watcher's result when it ended the session, else None. ``shutdown`` (the
    app's): the session also ends when the server starts to shut down."""
    outcome: T | None = None
    async with anyio.create_task_group() as tasks:

        async def run_then_stop(work: Callable[[], Awaitable[object]]) -> None:
            await work()
            tasks.cancel_scope.cancel()

        async def watch() -> None:
            nonlocal outcome
            outcome = await watch_client()
            tasks.cancel_scope.cancel()

        tasks.start_soon(run_then_stop, send_events)
        tasks.start_soon(run_then_stop, client.evicted.wait)
        if shutdown is not None:
            tasks.start_soon(run_then_stop, shutdown)
        tasks.start_soon(watch)
    return outcome
