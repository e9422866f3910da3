"""Transports carry events between processes: Redis or NATS (see docs/transports.md).

The broker clients are imported when a transport starts, so this package imports without
redis-py or nats-py installed.
"""

from ravyn.events.transports.base import Transport, TransportUnavailable, transport_from_url
from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport

__all__ = [
    "NATSTransport",
    "RedisTransport",
    "Transport",
    "TransportUnavailable",
    "transport_from_url",
]
