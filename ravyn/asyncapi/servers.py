"""What the AsyncAPI document says about the transport: its servers (host and protocol,
never credentials) and, per event name, where the events travel on it (Redis stream
keys, NATS subjects). Without a transport, events stay in the process: no server."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def transport_servers(transport: Any) -> dict[str, Any]:
    """The ``servers`` object for ``transport`` (empty for the in-memory bus)."""
    if transport is None:
        return {}
    urls = getattr(transport, "servers", None) or [getattr(transport, "url", "")]
    servers = {}
    for index, url in enumerate(urls):
        parts = urlsplit(url)
        if not parts.hostname:
            continue
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        server: dict[str, Any] = {"host": host, "protocol": parts.scheme}
        if parts.path.strip("/"):
            server["pathname"] = parts.path
        name = parts.scheme if len(urls) == 1 else f"{parts.scheme}-{index + 1}"
        servers[name] = server
    return servers


def channel_location(transport: Any, event_name: str) -> dict[str, str]:
    """Where ``event_name`` travels on the transport, as ``x-`` fields of its channel."""
    if transport is None:
        return {}
    location = {}
    key = getattr(transport, "key", None)  # Redis: one stream key (and pub/sub channel)
    if callable(key):
        location["x-redis-stream"] = key(event_name)
    subject = getattr(transport, "subject", None)  # NATS: JetStream and core subjects
    if callable(subject):
        location["x-nats-subject"] = subject(event_name)
        if getattr(transport, "stream", None):
            location["x-nats-stream"] = transport.stream
    core_subject = getattr(transport, "core_subject", None)
    if callable(core_subject):
        location["x-nats-broadcast-subject"] = core_subject(event_name)
    return location
