"""The app of the eviction test, served by a real `uvicorn` process.

A bridge of big events with a small queue and `overflow="disconnect"`. POST /emit?number=N emits
one big event numbered N and answers once it is in the bridge's clients' queues;
GET /clients answers how many clients the bridge's hub holds.
"""

from __future__ import annotations

import base64
import os

from ravyn.app import Ravyn
from ravyn.bridge import EventBridge
from ravyn.routing import Include, get, post

# Big, incompressible events fill a non-reading client's socket buffers quickly.
BLOB = base64.b64encode(os.urandom(75_000)).decode()

bridge = EventBridge(events=["big"], queue_size=4, overflow="disconnect")


@post("/emit")
async def emit(number: int) -> dict:
    await app.events.emit("big", {"n": number, "blob": BLOB}, wait=True)
    return {"emitted": number}


@get("/clients")
async def clients() -> dict:
    return {"clients": bridge.hub.client_count}


app = Ravyn(routes=[emit, clients, Include("/events", app=bridge)])
