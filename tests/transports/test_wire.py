"""What crosses the wire comes out the same, in either format, on either broker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ravyn.events import Event, EventBus, Listener, Registry
from tests.support.servers import NATSServer, RedisServer

from .brokers import Broker, wait_until

pytestmark = pytest.mark.timeout(30)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize("format", ["json", "msgpack"])
@pytest.mark.parametrize("broadcast", [False, True], ids=["durable", "broadcast"])
async def test_envelope_crosses_unchanged(broker: Broker, format: str, broadcast: bool) -> None:
    received: list[Event] = []

    async def on_order(event: Event) -> None:
        received.append(event)

    registry = Registry()
    registry.add_listener(Listener(on_order, ("order.placed",), broadcast=broadcast))
    async with (
        EventBus(registry, transport=broker.transport(format=format)),
        EventBus(Registry(), transport=broker.transport(format=format)) as publisher,
    ):
        sent = await publisher.emit(
            "order.placed",
            {"order": 7, "items": [{"sku": "A1", "qty": 2}], "note": "é"},
            source="POST /orders",
            headers={"traceparent": TRACEPARENT, "correlation-id": "req-42"},
        )
        await wait_until(lambda: received, what="the event")
    [event] = received
    assert event == sent
    assert event.headers["traceparent"] == TRACEPARENT
    assert event.correlation_id == "req-42"


@pytest.mark.parametrize("name", ["user registered", "user..registered", "user.", "user.*", ">"])
async def test_a_name_that_cannot_be_a_nats_subject_is_refused_at_emit(name: str) -> None:
    from datetime import UTC, datetime

    from ravyn.events.transports.nats import NATSTransport

    event = Event(name=name, id="1", emitted_at=datetime.now(UTC))
    with pytest.raises(ValueError, match="cannot be a NATS subject"):
        await NATSTransport().publish(event)


def test_transport_from_url() -> None:
    from ravyn.events.transports import NATSTransport, RedisTransport, transport_from_url

    redis = transport_from_url("redis://cache:6379/2", stream_prefix="shop")
    assert isinstance(redis, RedisTransport) and redis.key("a") == "shop:a"
    nats = transport_from_url("nats://n1:4222,nats://n2:4222", jetstream=False)
    assert isinstance(nats, NATSTransport) and nats.servers == ["nats://n1:4222", "nats://n2:4222"]
    with pytest.raises(ValueError, match="redis://host:port/db or nats://host:port"):
        transport_from_url("kafka://broker:9092")


def test_a_memory_url_names_a_broker_shared_in_the_process() -> None:
    from ravyn.events.transports import MemoryTransport, transport_from_url

    first, second = transport_from_url("memory://shop"), transport_from_url("memory://shop")
    other = transport_from_url("memory://")
    assert isinstance(first, MemoryTransport) and isinstance(other, MemoryTransport)
    assert first.broker is second.broker and other.broker is not first.broker


@pytest.mark.parametrize(
    ("reply", "count"),
    [
        ("$JS.ACK.RAVYN_EVENTS.c.3.10.9.1700000000000000000.5", 3),
        ("$JS.ACK.hub.ACCHASH.RAVYN_EVENTS.c.7.10.9.1700000000000000000.5.r4nd", 7),
    ],
    ids=["v1", "v2 (domain, account)"],
)
def test_the_delivery_count_is_read_from_either_form_of_jetstream_reply(
    reply: str, count: int
) -> None:
    from nats.aio.msg import Msg

    from ravyn.events.transports.nats import delivery_count

    message = Msg(_client=None, subject="ravyn.events.a", reply=reply)  # type: ignore[arg-type]
    assert delivery_count(message) == count == message.metadata.num_delivered


async def test_a_batch_counts_as_sent_only_when_the_stream_stored_every_message(
    nats_server: NATSServer,
) -> None:
    import nats

    from ravyn.events.transports import TransportUnavailable
    from ravyn.events.transports.nats_publish import BatchPublish

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="KEPT", subjects=["kept.>"])
        publishes = BatchPublish(nc)
        await publishes.subscribe()
        await publishes.publish([("kept.a", b"1", {}), ("kept.b", b"2", {})], timeout=5)
        assert (await js.stream_info("KEPT")).state.messages == 2
        # No stream keeps "lost.x": the server answers 503, and the batch is refused whole.
        with pytest.raises(TransportUnavailable, match="503"):
            await publishes.publish([("kept.c", b"3", {}), ("lost.x", b"4", {})], timeout=5)
        # The next batch is judged by its own answers, not the late ones of the last.
        await publishes.publish([("kept.d", b"5", {})], timeout=5)
        assert (await js.stream_info("KEPT")).state.messages == 4
    finally:
        await nc.close()


@pytest.mark.parametrize("protocol", [2, 3])
async def test_redis_finds_the_data_field_among_others_on_either_protocol(
    redis_server: RedisServer, protocol: int
) -> None:
    # The consumer reads XREADGROUP's reply as the protocol gives it (RESP2 lists, RESP3
    # maps); another producer may write more fields, in any order.
    import redis.asyncio as redis

    from ravyn.events.codec import Codec
    from ravyn.events.transports import RedisTransport

    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.id)

    registry = Registry()
    registry.add_listener(Listener(on_order, ("order.placed",)))
    event = Event(name="order.placed", id="e1", emitted_at=datetime.now(UTC), payload={"n": 1})
    transport = RedisTransport(f"{redis_server.url}?protocol={protocol}", block=0.2)
    async with EventBus(registry, transport=transport):
        async with redis.Redis.from_url(redis_server.url) as client:
            fields = {"source": "redis-cli", "data": Codec().encode(event)}
            await client.xadd("ravyn:order.placed", fields)  # type: ignore[arg-type]
        await wait_until(lambda: received == ["e1"], what="the entry written by another producer")
