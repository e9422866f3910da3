"""Plain `def` listeners have a thread pool of their own: they never hold up `def` routes."""

from __future__ import annotations

import threading

import httpx
import pytest

from ravyn import Ravyn, RavynSettings, get, post
from ravyn.events import Registry, observable, use_registry
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)


def test_blocked_sync_listeners_leave_threads_for_sync_routes() -> None:
    gate = threading.Event()
    running: list[int] = []

    with use_registry(Registry()):

        @post("/burst")
        @observable(send=["work"])
        async def burst() -> dict:
            return {}

        @observable(listen=["work"])
        def slow_listener() -> None:  # holds its thread until the test opens the gate
            running.append(1)
            gate.wait(30)

        @get("/sync")
        def sync_route() -> dict:
            return {"ok": True}

        @post("/open")
        async def open_gate() -> dict:
            gate.set()
            return {}

        settings = RavynSettings(sync_listener_threads=4, grace_period=5)
        app = Ravyn(routes=[burst, sync_route, open_gate], settings=settings)
    with serve(app) as address, httpx.Client(base_url=f"http://{address}", timeout=10) as client:
        for _ in range(60):  # more than anyio's default pool of 40 threads
            assert client.post("/burst").status_code == 201
        while len(running) < 4:
            threading.Event().wait(0.01)
        try:
            # Every listener thread is blocked; the route still gets a thread at once.
            assert client.get("/sync", timeout=5).json() == {"ok": True}
            assert len(running) == 4  # the pool's size, not one thread per event
        finally:
            gate.set()
