"""A worker process for the tests: `python worker_child.py redis|nats URL` (any URL
`transport_from_url` takes: one server or a cluster).

Short visibility timeout / ack wait, so that a killed consumer's event is taken over fast.
"""

from __future__ import annotations

import sys

from ravyn.events.transports import transport_from_url
from ravyn.events.worker import run_worker

if __name__ == "__main__":
    kind, url = sys.argv[1], sys.argv[2]
    options = (
        {"visibility_timeout": 1.0, "block": 0.2}
        if kind == "redis"
        else {"ack_wait": 1.0, "fetch_timeout": 0.2}
    )
    transport = transport_from_url(url, **options)
    run_worker(["tests.transports.listeners_app"], transport, grace_period=2.0)
