"""Publish an event to ravyn from any program: here nats-py, with the optional signature."""

import hashlib
import hmac
import json

import nats

PLACEHOLDER = "0" * 64  # the signature header while signing


def signed(event: dict, secret: str) -> bytes:
    """HMAC-SHA256 the bytes with 64 zeros as signature, then put the digest in their place."""
    event = {**event, "headers": {**event.get("headers", {}), "signature": PLACEHOLDER}}
    body = json.dumps(event).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body.replace(PLACEHOLDER.encode(), digest.encode())


async def publish(servers: str = "nats://127.0.0.1:4222", secret: str | None = None) -> None:
    event = {
        "name": "user_registered",
        "id": "7f9c2a5e0b",  # unique per event: listeners use it to be idempotent
        "emitted_at": "2026-01-01T12:00:00Z",
        "source": "billing-service",
        "payload": {"email": "ada@example.com", "user_id": 42},
    }
    data = signed(event, secret) if secret else json.dumps(event).encode()
    nc = await nats.connect(servers)
    # JetStream, for the once-per-cluster listeners (the id makes a retry harmless) ...
    await nc.jetstream().publish(
        "ravyn.events.user_registered", data, headers={"Nats-Msg-Id": event["id"]}
    )
    # ... and core NATS, for the broadcast listeners of every process.
    await nc.publish("ravyn.core.user_registered", data)
    await nc.close()
