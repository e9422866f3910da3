"""A worker process for the tests: `python worker_child.py redis|nats URL`.

Short visibility timeout / ack wait, so that a killed consumer's event is taken over fast.
"""

from __future__ import annotations

import sys

from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport
from ravyn.events.worker import run_worker

if __name__ == "__main__":
    kind, url = sys.argv[1], sys.argv[2]
    transport = (
        RedisTransport(url, visibility_timeout=1.0, block=0.2)
        if kind == "redis"
        else NATSTransport([url], ack_wait=1.0, fetch_timeout=0.2)
    )
    run_worker(["tests.transports.listeners_app"], transport, grace_period=2.0)
