"""A worker started from Python, with a transport object and its options."""

import os

from ravyn.events.transports.redis import RedisTransport
from ravyn.events.worker import run_worker


def main() -> None:
    transport = RedisTransport(
        url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        visibility_timeout=120,  # a dead worker's events are taken over after 2 minutes
    )
    run_worker(["docs_src.transports.listeners"], transport, grace_period=30)


if __name__ == "__main__":
    main()
