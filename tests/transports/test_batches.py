"""Broadcast messages carry batches of events: decoded at once, delivered at once, and one
bad event in a batch refuses itself alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import msgspec
import pytest
import structlog

from ravyn.events import Event, EventBus, Listener, Registry
from ravyn.events.codec import WIRE_VERSION, Codec, DecodeError
from ravyn.events.signing import SignatureError, Signer
from ravyn.events.transports.broker import FRAME_LIMIT
from ravyn.events.transports.delivery import SeenIds
from ravyn.events.transports.outbox import Outbox, Outgoing
from tests.support.servers import RedisServer

from .brokers import Broker, RedisBroker, wait_until

pytestmark = pytest.mark.timeout(30)


def make_event(name: str = "tick", **fields: object) -> Event:
    return Event(name=name, id=uuid.uuid4().hex, emitted_at=datetime.now(UTC), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("format", ["json", "msgpack"])
def test_a_frame_decodes_to_its_events_in_order(format: str) -> None:
    codec = Codec(format)
    events = [make_event(payload={"n": n}) for n in range(5)]
    assert codec.decode_message(codec.frame([codec.encode(e) for e in events])) == (events, [])
    assert codec.decode_message(codec.encode(events[0])) == (events[:1], [])


@pytest.mark.parametrize("format", ["json", "msgpack"])
def test_one_bad_event_in_a_frame_refuses_itself_alone(format: str) -> None:
    codec = Codec(format)
    good = [make_event(), make_event()]
    encode = msgspec.json.encode if format == "json" else msgspec.msgpack.encode
    bad_shape = encode({"name": 1, "id": "x"})
    too_new = encode(
        {"name": "tick", "id": "y", "emitted_at": "2026-01-01T00:00:00Z", "v": WIRE_VERSION + 1}
    )
    message = codec.frame([codec.encode(good[0]), bad_shape, too_new, codec.encode(good[1])])
    events, refused = codec.decode_message(message)
    assert events == good
    assert [type(exc) for exc in refused] == [DecodeError, DecodeError]
    assert "newer than this process understands" in str(refused[1])


def test_signed_frames_check_every_event() -> None:
    codec = Codec(signer=Signer("k"))
    good = make_event()
    forged = Codec(signer=Signer("other")).encode(make_event())
    events, refused = codec.decode_message(codec.frame([forged, codec.encode(good)]))
    assert [event.id for event in events] == [good.id]
    assert [type(exc) for exc in refused] == [SignatureError]


def test_the_size_limit_holds_for_each_event_of_a_frame() -> None:
    small, large = make_event(), make_event(payload="x" * 500)
    writer = Codec()
    codec = Codec(max_size=len(writer.encode(large)) - 1)
    events, refused = codec.decode_message(
        writer.frame([writer.encode(small), writer.encode(large)])
    )
    assert events == [small] and "over the limit" in str(refused[0])


def test_a_broken_frame_is_refused_whole() -> None:
    events, refused = Codec().decode_message(b"[{broken")
    assert events == [] and "array of events" in str(refused[0])


async def test_deliver_local_many_waits_for_room_and_runs_every_event_in_order() -> None:
    started: list[int] = []
    release = asyncio.Event()

    async def on_tick(n: int) -> None:
        started.append(n)
        await release.wait()

    registry = Registry()

    async def durable_on_tick(n: int) -> None:  # run by its consumer group, not broadcast
        started.append(-n)

    registry.add_listener(Listener(on_tick, ("tick",), broadcast=True))
    registry.add_listener(Listener(durable_on_tick, ("tick",)))
    events = [make_event(payload={"n": n}) for n in range(3)]
    async with EventBus(registry, max_in_flight=2) as bus:
        delivery = asyncio.create_task(bus.deliver_local_many(events, broadcast_only=True))
        await wait_until(lambda: started == [0, 1], what="two listeners in flight")
        assert not delivery.done()  # the third waits for room (max_in_flight=2)
        release.set()
        await delivery
        await bus.idle()
    assert started == [0, 1, 2]


@pytest.mark.parametrize("format", ["json", "msgpack"])
async def test_a_batch_with_a_bad_event_delivers_the_others(broker: Broker, format: str) -> None:
    received: list[str] = []

    async def on_tick(event: Event) -> None:
        received.append(event.id)

    registry = Registry()
    registry.add_listener(Listener(on_tick, ("tick",), broadcast=True))
    codec = Codec(format)
    good = [make_event(), make_event()]
    encode = msgspec.json.encode if format == "json" else msgspec.msgpack.encode
    message = codec.frame([codec.encode(good[0]), encode({"name": 1}), codec.encode(good[1])])
    with structlog.testing.capture_logs() as logs:
        async with EventBus(registry, transport=broker.transport()):
            await broker.inject("tick", message)
            await wait_until(lambda: len(received) == 2, what="the two good events")
    assert received == [event.id for event in good]
    assert [log["kind"] for log in logs if log["event"] == "event_refused"] == ["DecodeError"]


def test_seen_ids_drop_repeats_and_remember_at_least_size_ids() -> None:
    seen = SeenIds(size=3)
    a, b, c, d = (make_event() for _ in range(4))
    assert seen.fresh([a, b, a]) == [a, b]
    assert seen.fresh([b, c]) == [c]  # the current generation is full: it becomes previous
    assert seen.fresh([a, d]) == [d]  # still remembered from the previous generation
    assert seen.fresh([make_event() for _ in range(3)])  # another full generation...
    assert seen.fresh([a]) == [a]  # ...and the oldest are forgotten


async def test_a_burst_leaves_in_full_batches_while_it_is_emitted() -> None:
    sent: list[int] = []

    async def send(batch: list[Outgoing]) -> None:
        sent.append(len(batch))

    outbox = Outbox(send, transport="test", max_batch=100)
    outbox.start()
    shipped_during_the_burst = []
    for _ in range(1000):  # an emitter that never awaits anything else
        await outbox.put(make_event(), b"{}")
        shipped_during_the_burst.append(sum(sent))
    assert await outbox.stop(1.0) == []
    assert shipped_during_the_burst[99::100] == list(range(100, 1001, 100))
    assert sent == [100] * 10


async def test_a_batch_over_the_frame_limit_is_split_and_arrives_whole(broker: Broker) -> None:
    received: list[str] = []

    async def on_blob(event: Event) -> None:
        received.append(event.id)

    registry = Registry()
    registry.add_listener(Listener(on_blob, ("blob",), broadcast=True))
    blob = "x" * 10_000
    count = FRAME_LIMIT // len(blob) * 2 + 1  # a burst that needs three frames
    async with EventBus(registry, transport=broker.transport()) as bus:
        sent = [await bus.emit("blob", {"data": blob}) for _ in range(count)]
        await wait_until(lambda: len(received) == count, what="every event of the burst")
    assert received == [event.id for event in sent]


async def test_redis_acknowledges_a_batch_of_thousands_of_entries(
    redis_server: RedisServer,
) -> None:
    # One XACK acknowledges a batch, however many ids it takes.
    received: list[str] = []

    async def on_tick(event: Event) -> None:
        received.append(event.id)

    listener = Listener(on_tick, ("tick",))
    registry = Registry()
    registry.add_listener(listener)
    broker = RedisBroker(redis_server)
    count = 9_000
    async with broker.client() as client:
        await client.xgroup_create("ravyn:tick", listener.name, id="0", mkstream=True)
        codec = Codec()
        pipe = client.pipeline(transaction=False)
        for _ in range(count):
            pipe.xadd("ravyn:tick", {"data": codec.encode(make_event("tick"))})
        await pipe.execute()
        async with EventBus(registry, transport=broker.transport(batch_size=count)):
            await wait_until(lambda: len(received) == count, 30, what="the whole backlog")

            async def nothing_pending() -> bool:
                pending = await client.xpending("ravyn:tick", listener.name)
                return bool(pending["pending"] == 0)

            await wait_until(nothing_pending, 30, what="every entry acknowledged")
    assert sorted(received) == sorted(set(received))  # none ran twice
