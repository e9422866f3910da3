"""Transports carry events between processes: Redis, NATS, or in memory (docs/transports.md).

`contract.py` is what a transport implements; `broker.py` is the template the brokers
share. The broker clients are imported when a transport starts, so this package imports
without redis-py or nats-py installed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ravyn.events.transports.contract import Receiver, Transport, TransportUnavailable
from ravyn.events.transports.memory import MemoryTransport
from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport

REDIS_SCHEMES = ("redis", "rediss", "unix")
NATS_SCHEMES = ("nats", "tls")
MEMORY_SCHEME = "memory"


def transport_from_url(url: str, **options: Any) -> Transport:
    """`redis://host:6379/0` -> RedisTransport, `nats://host:4222[,nats://...]` ->
    NATSTransport, `memory://[name]` -> MemoryTransport (the transports of one process
    with the same name share one in-memory broker).

    `?prefix=myapp` names the keys or subjects (default `ravyn`): the app and its workers
    share one URL, so they meet on the same streams. (A memory broker's name already
    keeps it apart: it needs no prefix.)
    """
    scheme = url.partition("://")[0].lower()
    url, prefix = _split_prefix(url)
    if scheme in REDIS_SCHEMES:
        if prefix is not None:
            options["stream_prefix"] = prefix
        return RedisTransport(url=url, **options)
    if scheme in NATS_SCHEMES:
        if prefix is not None:
            options["subject_prefix"] = prefix
        return NATSTransport(servers=[s.strip() for s in url.split(",")], **options)
    if scheme == MEMORY_SCHEME:
        return MemoryTransport(url.partition("://")[2], **options)
    raise ValueError(
        f"no event transport for {url!r}: use redis://host:port/db or nats://host:port "
        "(or memory:// inside one process)"
    )


def _split_prefix(url: str) -> tuple[str, str | None]:
    """`redis://h/0?prefix=app&ssl_cert_reqs=none` -> (`redis://h/0?ssl_cert_reqs=none`, `app`)."""
    base, _, query = url.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    prefixes = [unquote(value) for key, _, value in pairs if key == "prefix"]
    rest = "&".join(f"{key}={value}" for key, _, value in pairs if key != "prefix")
    return (f"{base}?{rest}" if rest else base), (prefixes[-1] if prefixes else None)


__all__ = [
    "MemoryTransport",
    "NATSTransport",
    "Receiver",
    "RedisTransport",
    "Transport",
    "TransportUnavailable",
    "transport_from_url",
]
