"""Wildcard listeners across processes: the broker's wildcard is wider, ravyn filters."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from ravyn.events import Event, EventBus, Listener, Registry
from ravyn.events.transports.redis import RedisTransport
from tests.support.servers import RedisServer

from .brokers import Broker, wait_until

pytestmark = pytest.mark.timeout(120)  # a broker per test: generous under load
DELIVERY_TIMEOUT = 30.0


@pytest.mark.parametrize("broadcast", [False, True], ids=["durable", "broadcast"])
async def test_a_pattern_listener_gets_the_names_it_matches_even_new_ones(
    broker: Broker, broadcast: bool
) -> None:
    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.name)

    registry = Registry()
    registry.add_listener(Listener(on_order, ("order.*",), broadcast=broadcast))
    publisher = EventBus(Registry(), transport=broker.transport())
    async with publisher:
        await publisher.emit("order.placed", {})  # its stream exists before the listener
        # the broker took it before the listener subscribes: it is not one the listener gets
        await publisher.transport.flush(DELIVERY_TIMEOUT)
        async with EventBus(registry, transport=broker.transport()):
            for name in ("order.placed", "order.a.b", "orders.x", "order.shipped", "order.paid"):
                await publisher.emit(name, {})
            await wait_until(
                lambda: len(received) >= 3, DELIVERY_TIMEOUT, what="the matching events"
            )
            await publisher.emit("order.last", {})
            await wait_until(lambda: "order.last" in received, DELIVERY_TIMEOUT, what="the last")
    assert sorted(received) == ["order.last", "order.paid", "order.placed", "order.shipped"]


async def test_redis_pattern_discovery_survives_a_key_that_is_not_utf8_and_never_cries_wolf(
    redis_server: RedisServer,
) -> None:
    """A wildcard listener before any matching stream exists logs no false alarm; a key
    that is not UTF-8 (not written by ravyn) is ignored, and new streams still arrive."""
    import redis.asyncio as redis

    received: list[str] = []

    async def on_odd(event: Event) -> None:
        received.append(event.name)

    registry = Registry()
    registry.add_listener(Listener(on_odd, ("odd.*",)))
    publisher = EventBus(Registry(), transport=RedisTransport(redis_server.url))
    with structlog.testing.capture_logs() as logs:
        async with EventBus(registry, transport=RedisTransport(redis_server.url)), publisher:
            await asyncio.sleep(1.0)  # several discovery rounds with no matching stream
            async with redis.Redis.from_url(redis_server.url) as client:
                await client.xadd(b"ravyn:odd.\xff\xfe", {"data": b"{}"})
            for n in range(5):
                await publisher.emit("odd.new", {"n": n})
            await wait_until(
                lambda: len(received) == 5, DELIVERY_TIMEOUT, what="5 events on the new stream"
            )
    assert [log["event"] for log in logs if log["log_level"] in ("warning", "error")] == [
        "stream_key_ignored"
    ]
