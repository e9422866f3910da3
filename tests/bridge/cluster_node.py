"""One process of the bridge's cluster test: a Ravyn app with a bridge, on a Redis transport.

Run as `python -m tests.bridge.cluster_node <redis-url> <port>`. POST /emit?number=N emits
`new_comment` {"number": N, "pid": ...} and answers once it is published.
"""

from __future__ import annotations

import os
import sys

import uvicorn

from ravyn.app import Ravyn
from ravyn.bridge import EventBridge
from ravyn.routing import Include, post
from ravyn.utils.decorators import observable


def build(redis_url: str) -> Ravyn:
    bridge = EventBridge(events=["new_comment"])

    @post("/emit")
    @observable(send=["new_comment"], wait=True)
    async def emit(number: int) -> dict:
        return {"number": number, "pid": os.getpid()}

    return Ravyn(routes=[emit, Include("/events", app=bridge)], event_transport=redis_url)


if __name__ == "__main__":
    redis_url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(build(redis_url), host="127.0.0.1", port=port, log_level="warning")
