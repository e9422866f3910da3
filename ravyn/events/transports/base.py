"""What a transport promises the bus, and how to pick one from a URL.

A transport carries events between processes. The bus hands it every emitted event
(`publish`) and, at `start`, itself: the transport then delivers what arrives back through
`bus.deliver(event, listener)` (durable, once per cluster) or
`bus.deliver_local_many(events, broadcast_only=True)` (broadcast, once per process: the
events of one message at once).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import unquote

if TYPE_CHECKING:
    from ravyn.events.bus import EventBus
    from ravyn.events.envelope import Event

REDIS_SCHEMES = ("redis", "rediss", "unix")
NATS_SCHEMES = ("nats", "tls")


class TransportUnavailable(ConnectionError):
    """The transport cannot take the event now (server unreachable and local buffer full)."""


@runtime_checkable
class Transport(Protocol):
    async def start(self, bus: EventBus) -> None:
        """Connect; one durable consumer per non-broadcast listener, one broadcast feed."""

    async def publish(self, event: Event) -> None:
        """Hand the event over; raises TransportUnavailable when it cannot."""

    async def stop(self, grace_period: float) -> None:
        """Stop fetching, finish and acknowledge in-flight work within the grace period."""

    async def acquire_once(self, key: str, ttl: float) -> bool:
        """True for the first caller in the cluster for `key` within `ttl` seconds."""


def transport_from_url(url: str, **options: Any) -> Transport:
    """`redis://host:6379/0` -> RedisTransport, `nats://host:4222[,nats://...]` -> NATSTransport.

    `?prefix=myapp` names the keys or subjects (default `ravyn`): the app and its workers
    share one URL, so they meet on the same streams.
    """
    scheme = url.partition("://")[0].lower()
    url, prefix = _split_prefix(url)
    if scheme in REDIS_SCHEMES:
        from ravyn.events.transports.redis import RedisTransport

        if prefix is not None:
            options["stream_prefix"] = prefix
        return RedisTransport(url=url, **options)
    if scheme in NATS_SCHEMES:
        from ravyn.events.transports.nats import NATSTransport

        if prefix is not None:
            options["subject_prefix"] = prefix
        return NATSTransport(servers=[s.strip() for s in url.split(",")], **options)
    raise ValueError(
        f"no event transport for {url!r}: use redis://host:port/db or nats://host:port"
    )


def _split_prefix(url: str) -> tuple[str, str | None]:
    """`redis://h/0?prefix=app&ssl_cert_reqs=none` -> (`redis://h/0?ssl_cert_reqs=none`, `app`)."""
    base, _, query = url.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    prefixes = [unquote(value) for key, _, value in pairs if key == "prefix"]
    rest = "&".join(f"{key}={value}" for key, _, value in pairs if key != "prefix")
    return (f"{base}?{rest}" if rest else base), (prefixes[-1] if prefixes else None)


class Backoff:
    """Exponential delays with jitter, so reconnecting processes do not stampede a server."""

    def __init__(self, initial: float = 0.05, maximum: float = 5.0) -> None:
        self.initial = initial
        self.maximum = maximum

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first retry)."""
        ceiling = min(self.maximum, self.initial * 2 ** max(attempt - 1, 0))
        return ceiling * random.uniform(0.5, 1.0)
