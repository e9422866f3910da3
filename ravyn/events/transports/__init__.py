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

REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")
NATS_SCHEMES = ("nats", "tls")
MEMORY_SCHEME = "memory"

# ravyn's own options in a URL's query -> (the transport option, its type), per broker.
REDIS_URL_OPTIONS = {"prefix": ("stream_prefix", str), "replica_acks": ("replica_acks", int)}
NATS_URL_OPTIONS = {"prefix": ("subject_prefix", str), "replicas": ("replicas", int)}


def transport_from_url(url: str, **options: Any) -> Transport:
    """`redis://host:6379/0` -> RedisTransport, `nats://host:4222[,host2:4222...]` ->
    NATSTransport, `memory://[name]` -> MemoryTransport (the transports of one process
    with the same name share one in-memory broker).

    Clustered brokers: `nats://a:4222,b:4222,c:4222?replicas=3` (one scheme, the hosts
    comma-separated), `redis+sentinel://s1:26379,s2:26379/mymaster/0` and
    `redis+cluster://n1:6379,n2:6379`.

    Options in the query: `?prefix=myapp` names the keys or subjects (default `ravyn`): the
    app and its workers share one URL, so they meet on the same streams. (A memory broker's
    name already keeps it apart: it needs no prefix.) NATS takes `replicas=N` (the
    streams' replicas), Redis `replica_acks=N` (an emitted batch counts as sent once N
    replicas have it). Keyword `options` win over the query.
    """
    scheme = url.partition("://")[0].lower()
    if scheme in REDIS_SCHEMES:
        url, found = _split_options(url, REDIS_URL_OPTIONS)
        return RedisTransport(url=url, **{**found, **options})
    if scheme in NATS_SCHEMES:
        url, found = _split_options(url, NATS_URL_OPTIONS)
        return NATSTransport(servers=_nats_servers(url), **{**found, **options})
    if scheme == MEMORY_SCHEME:
        return MemoryTransport(url.partition("://")[2], **options)
    raise ValueError(
        f"no event transport for {url!r}: use redis://host:port/db or nats://host:port "
        "(or memory:// inside one process)"
    )


def _split_options(url: str, known: dict[str, tuple[str, type]]) -> tuple[str, dict[str, Any]]:
    """`redis://h/0?prefix=app&ssl_cert_reqs=none` -> (`redis://h/0?ssl_cert_reqs=none`,
    {"stream_prefix": "app"}): ravyn's options out, the client's own left in the URL."""
    base, _, query = url.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&") if pair]
    found: dict[str, Any] = {}
    for key, _, value in pairs:
        if key in known:
            option, kind = known[key]
            try:
                found[option] = kind(unquote(value))
            except ValueError:
                raise ValueError(f"{key}={value!r} in the transport URL: use a number") from None
    rest = "&".join(f"{key}={value}" for key, _, value in pairs if key not in known)
    return (f"{base}?{rest}" if rest else base), found


def _nats_servers(url: str) -> list[str]:
    """`nats://u:p@a:4222,b:4222` -> [`nats://u:p@a:4222`, `nats://u:p@b:4222`]: the hosts
    after the first take its scheme, and its credentials when they have none."""
    first, *others = (server.strip() for server in url.split(","))
    scheme, _, rest = first.partition("://")
    credentials, at, _ = rest.rpartition("@")
    servers = [first]
    for server in others:
        if "://" not in server:
            server = (
                f"{scheme}://{server}" if "@" in server else f"{scheme}://{credentials}{at}{server}"
            )
        servers.append(server)
    return servers


__all__ = [
    "MemoryTransport",
    "NATSTransport",
    "Receiver",
    "RedisTransport",
    "Transport",
    "TransportUnavailable",
    "transport_from_url",
]
