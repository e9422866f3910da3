"""A real uvicorn server in the test's own event loop, on a free port.

Running in the test's loop lets a test emit on the app's bus directly while real clients
(websockets, httpx, a browser) talk to the server over TCP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from lilya.types import ASGIApp


@dataclass(frozen=True)
class RunningServer:
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@asynccontextmanager
async def serve(app: ASGIApp) -> AsyncIterator[RunningServer]:
    """Start uvicorn (lifespan included) and stop it on exit; startup is awaited, not polled."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2
    )
    config.load()
    server = uvicorn.Server(config)
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    if server.should_exit:
        raise RuntimeError("uvicorn did not start (see its log above)")
    try:
        yield RunningServer(port=server.servers[0].sockets[0].getsockname()[1])
    finally:
        await server.shutdown()
