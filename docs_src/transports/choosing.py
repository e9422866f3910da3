"""Three ways to give an app a transport (nothing connects before the app starts)."""

from ravyn import Ravyn
from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport

# A URL: redis://host:port/db or nats://host:port (also RAVYN_EVENT_TRANSPORT).
by_url = Ravyn(event_transport="redis://127.0.0.1:6379/0")

# Redis with options: key prefix, stream bound, a dead consumer's events taken over after 60 s.
on_redis = Ravyn(
    event_transport=RedisTransport(
        url="redis://127.0.0.1:6379/0",
        stream_prefix="shop",
        maxlen=500_000,
        visibility_timeout=60.0,
    )
)

# NATS with JetStream: events kept three days at most.
on_nats = Ravyn(
    event_transport=NATSTransport(
        servers=["nats://127.0.0.1:4222"], jetstream=True, max_age=3 * 24 * 3600
    )
)
