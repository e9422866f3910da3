"""Streams are bounded as docs/transports.md says: `maxlen` on Redis, `max_age` and
`max_msgs` on NATS, for the events and for the dead letters."""

from __future__ import annotations

import json

import pytest
import structlog

from ravyn.events import Event, EventBus, Listener, Registry
from tests.support.servers import NATSServer, RedisServer

from .brokers import Broker, MemoryBroker, NATSBroker, RedisBroker, wait_until

pytestmark = pytest.mark.timeout(30)

BOUND = 50
# `XADD MAXLEN ~` trims whole stream nodes only (stream-node-max-entries: 100 entries), so
# a Redis stream holds between `maxlen` and `maxlen` + 100 entries.
REDIS_NODE = 100


async def test_a_redis_stream_keeps_about_maxlen_entries_the_newest(
    redis_server: RedisServer,
) -> None:
    broker = RedisBroker(redis_server)
    async with EventBus(Registry(), transport=broker.transport(maxlen=BOUND)) as bus:
        for n in range(1000):
            await bus.emit("order.placed", {"order": n})

    async with broker.client() as client:
        length = await client.xlen("ravyn:order.placed")
        [(_, newest)] = await client.xrevrange("ravyn:order.placed", count=1)
    assert BOUND <= length < BOUND + REDIS_NODE
    assert json.loads(newest[b"data"])["payload"] == {"order": 999}


async def test_the_nats_stream_carries_max_age_and_keeps_at_most_max_msgs(
    nats_server: NATSServer,
) -> None:
    broker = NATSBroker(nats_server)
    transport = broker.transport(max_age=3600.0, max_msgs=BOUND)
    async with EventBus(Registry(), transport=transport) as bus:
        for n in range(200):
            await bus.emit("order.placed", {"order": n})

    async def infos(js):  # type: ignore[no-untyped-def]
        return [await js.stream_info(name) for name in ("RAVYN_EVENTS", "RAVYN_DEAD")]

    events, dead = await broker.with_jetstream(infos)
    for info in (events, dead):
        assert (info.config.max_age, info.config.max_msgs) == (3600.0, BOUND)
    assert events.state.last_seq == 200  # all stored, the oldest dropped:
    assert events.state.messages == BOUND
    assert events.state.first_seq == 200 - BOUND + 1


async def dead_letters_stored(broker: Broker) -> int:
    if isinstance(broker, RedisBroker):
        async with broker.client() as client:
            return int(await client.xlen("ravyn:dead"))
    if isinstance(broker, MemoryBroker):
        return len(await broker.dead_letters())
    return (await broker.with_jetstream(lambda js: js.stream_info("RAVYN_DEAD"))).state.messages


async def test_the_dead_letters_are_bounded_too(broker: Broker) -> None:
    async def always_fails(event: Event) -> None:
        raise RuntimeError("boom")

    registry = Registry()
    listener = registry.add_listener(Listener(always_fails, ("order.placed",), retry=1))
    bound = {
        "redis": {"dead_letter_maxlen": BOUND},
        "nats": {"max_msgs": BOUND},
        "memory": {"max_dead_letters": BOUND},
    }[broker.kind]
    rounds, per_round = 12, 25  # each round below the bound, so no event is trimmed unread
    bus = EventBus(registry, transport=broker.transport(**bound))
    with structlog.testing.capture_logs() as logs:  # and no console rendering of 300 errors
        async with bus:
            for round_ in range(rounds):
                for n in range(per_round):
                    await bus.emit("order.placed", {"order": round_ * per_round + n})
                await wait_until(
                    lambda: broker.settled(listener.name, "order.placed"), what="the round"
                )

    dead_lettered = [log for log in logs if log["event"] == "event_dead_lettered"]
    assert len(dead_lettered) == rounds * per_round

    stored = await dead_letters_stored(broker)
    if broker.kind == "redis":
        assert BOUND <= stored < BOUND + REDIS_NODE
    else:
        assert stored == BOUND
