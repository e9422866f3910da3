"""Bad messages, failing listeners, lost servers, shutdown: what each transport promises."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import structlog

from ravyn.events import Event, EventBus, Listener, Registry, RetryPolicy
from ravyn.events.codec import Codec
from ravyn.events.signing import Signer
from ravyn.events.transports.contract import TransportUnavailable
from ravyn.events.transports.nats import NATSTransport, durable_name
from ravyn.events.transports.redis import RedisTransport
from tests.support.servers import NATSServer, RedisServer

from .brokers import Broker, NATSBroker, RedisBroker, wait_until

pytestmark = pytest.mark.timeout(60)


def registry_with(func: Any, events: tuple[str, ...], **policy: Any) -> tuple[Registry, Listener]:
    registry = Registry()
    listener = registry.add_listener(Listener(func, events, **policy))
    return registry, listener


def hand_made(name: str, **fields: Any) -> Event:
    return Event(
        name=name, id=fields.pop("id", "hand-made"), emitted_at="2026-01-01T00:00:00Z", **fields
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("broadcast", [False, True], ids=["durable", "broadcast"])
async def test_forged_unsigned_and_malformed_messages_are_refused_and_the_consumer_goes_on(
    broker: Broker, broadcast: bool
) -> None:
    received: list[Event] = []

    async def on_order(event: Event) -> None:
        received.append(event)

    registry, listener = registry_with(on_order, ("order.placed",), broadcast=broadcast)
    forged = Codec(signer=Signer("not-the-secret")).encode(hand_made("order.placed", id="forged"))
    unsigned = Codec().encode(hand_made("order.placed", id="unsigned"))
    with structlog.testing.capture_logs() as logs:
        consumer = EventBus(registry, transport=broker.transport(secret="s3cret"))
        publisher = EventBus(Registry(), transport=broker.transport(secret="s3cret"))
        async with consumer, publisher:
            for data in (b"{definitely not json", b"\xc1\x00garbage", forged, unsigned):
                await broker.inject("order.placed", data)
            good = await publisher.emit("order.placed", {"order": 1})
            await wait_until(lambda: received, what="the signed event")
            if not broadcast:
                await wait_until(lambda: broker.settled(listener.name, "order.placed"))

    assert [event.id for event in received] == [good.id]
    refused = [log for log in logs if log["event"] == "event_refused"]
    assert [log["kind"] for log in refused] == ["DecodeError", "DecodeError"] + [
        "SignatureError"
    ] * 2
    assert "forged" in refused[2]["reason"] and "unsigned" in refused[3]["reason"]
    letters = await broker.dead_letters()
    if broadcast:
        assert letters == []  # at-most-once: refused and dropped
    else:  # dead-lettered with the reason, and acknowledged (settled above)
        assert [data for data, _ in letters] == [
            b"{definitely not json",
            b"\xc1\x00garbage",
            forged,
            unsigned,
        ]
        assert all(error.startswith("refused: ") for _, error in letters)


async def test_poison_messages_are_dead_lettered_and_the_consumer_keeps_consuming(
    broker: Broker,
) -> None:
    """A payload nested 5,000 deep (RecursionError in a decoder) or a name forging SSE lines
    is refused and dead-lettered; the 20 events after them all arrive."""
    received: list[int] = []

    async def on_order(n: int) -> None:
        received.append(n)

    registry, listener = registry_with(on_order, ("order.placed",))
    deep = (
        b'{"name": "order.placed", "id": "deep", "emitted_at": "2026-01-01T00:00:00Z",'
        b' "payload": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    )
    forged_name = (
        b'{"name": "order.placed\nevent: admin_only", "id": "forged-name",'
        b' "emitted_at": "2026-01-01T00:00:00Z", "payload": {"n": 0}}'
    )
    consumer = EventBus(registry, transport=broker.transport())
    publisher = EventBus(Registry(), transport=broker.transport())
    async with consumer, publisher:
        for data in (deep, forged_name):
            await broker.inject("order.placed", data)
        for n in range(20):
            await publisher.emit("order.placed", {"n": n})
        await wait_until(lambda: len(received) == 20, what="the 20 events after the poison")
        await wait_until(lambda: broker.settled(listener.name, "order.placed"))
    assert sorted(received) == list(range(20))
    letters = await broker.dead_letters()
    assert [data for data, _ in letters] == [deep, forged_name]
    assert all(error.startswith("refused: ") for _, error in letters)


async def test_a_consumer_whose_step_crashes_is_restarted_and_reported_unhealthy(
    broker: Broker,
) -> None:
    """A listener calling sys.exit() (not an Exception) does not end its consumer: the
    crash is logged, health() says the loop is failing, and later events still arrive."""
    received: list[int] = []

    async def on_order(n: int) -> None:
        if n == 0:
            raise SystemExit(3)
        received.append(n)

    registry, _ = registry_with(on_order, ("order.placed",), max_concurrency=1)
    transport = broker.transport()
    with structlog.testing.capture_logs() as logs:
        async with EventBus(registry, transport=transport) as bus:
            await bus.emit("order.placed", {"n": 0})
            await wait_until(
                lambda: not transport.health()["healthy"], what="the crash to show in health()"
            )
            for n in range(1, 11):
                await bus.emit("order.placed", {"n": n})
            await wait_until(lambda: len(received) == 10, what="the events after the crash")
            await wait_until(lambda: transport.health()["healthy"], what="health to recover")
    crashes = [log for log in logs if log["event"] == "consumer_crashed"]
    assert crashes and "SystemExit" in crashes[0]["error"]
    assert sorted(received) == list(range(1, 11))


@pytest.mark.parametrize("replay_window", [None, 60.0], ids=["no-window", "window"])
async def test_a_replayed_signed_event_runs_once_within_the_replay_window(
    broker: Broker, replay_window: float | None
) -> None:
    """Signing proves who made an event, not that it is new: the same signed bytes put on
    the stream again run the listener again, unless a replay window is set."""
    runs: list[str] = []

    async def on_order(event: Event) -> None:
        runs.append(event.id)

    registry, listener = registry_with(on_order, ("order.placed",))
    signed = Codec(signer=Signer("s3cret")).encode(hand_made("order.placed", id="pay-once"))
    options = {"secret": "s3cret", "replay_window": replay_window}
    with structlog.testing.capture_logs() as logs:
        async with EventBus(registry, transport=broker.transport(**options)):
            await broker.inject("order.placed", signed)
            await wait_until(lambda: runs, what="the first copy")
            await broker.inject("order.placed", signed)  # an attacker replays it
            await wait_until(lambda: broker.settled(listener.name, "order.placed"))
            await asyncio.sleep(0.2)
    expected = 1 if replay_window else 2
    assert runs == ["pay-once"] * expected
    refused = [log for log in logs if log["event"] == "event_replay_refused"]
    assert len(refused) == 2 - expected


async def test_a_listener_failing_its_last_attempt_is_dead_lettered(broker: Broker) -> None:
    attempts: list[str] = []

    async def always_fails(event: Event) -> None:
        attempts.append(event.id)
        raise RuntimeError("payment service down")

    registry, listener = registry_with(
        always_fails, ("order.placed",), retry=RetryPolicy(max_attempts=2, initial_delay=0.01)
    )
    async with EventBus(registry, transport=broker.transport()) as bus:
        event = await bus.emit("order.placed", {"order": 1})
        await wait_until(lambda: len(attempts) == 2, what="two attempts")
        await wait_until(lambda: broker.settled(listener.name, "order.placed"), what="the ack")
    assert attempts == [event.id, event.id]
    [(data, error)] = await broker.dead_letters()
    assert Codec().decode(data).id == event.id
    assert error == "RuntimeError: payment service down"


@pytest.mark.server
async def test_a_server_restart_loses_no_durable_event(broker: Broker) -> None:
    received: set[str] = set()

    async def on_order(event: Event) -> None:
        received.add(event.id)

    registry, _ = registry_with(on_order, ("order.placed",))
    consumer = EventBus(registry, transport=broker.transport())
    publisher = EventBus(Registry(), transport=broker.transport())
    async with consumer, publisher:
        emitted = [await publisher.emit("order.placed", {"n": n}) for n in range(25)]
        await wait_until(lambda: len(received) >= 10, what="some events consumed")
        await asyncio.to_thread(broker.server.stop)
        emitted += [await publisher.emit("order.placed", {"n": n}) for n in range(25, 50)]
        await asyncio.to_thread(broker.server.start)
        emitted += [await publisher.emit("order.placed", {"n": n}) for n in range(50, 60)]
        ids = {event.id for event in emitted}
        await wait_until(lambda: ids <= received, timeout=30, what="every event after the restart")


@pytest.mark.server
async def test_emit_while_unreachable_buffers_then_fails_loudly_when_full(broker: Broker) -> None:
    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.id)

    registry, _ = registry_with(on_order, ("order.placed",))
    publisher = EventBus(Registry(), transport=broker.transport(max_buffer=3, buffer_timeout=0.2))
    async with EventBus(registry, transport=broker.transport()), publisher:
        await asyncio.to_thread(broker.server.stop)
        buffered = [await publisher.emit("order.placed", {"n": n}) for n in range(3)]
        with structlog.testing.capture_logs() as logs, pytest.raises(TransportUnavailable):
            await publisher.emit("order.placed", {"n": 3})
        [log] = [log for log in logs if log["event"] == "event_not_sent"]
        assert log["event_id"] and log["queued"] == 3
        await asyncio.to_thread(broker.server.start)
        await wait_until(
            lambda: {e.id for e in buffered} <= set(received), timeout=30, what="the buffer"
        )


@pytest.mark.server
async def test_flush_returns_once_the_server_has_the_events_and_fails_while_it_is_down(
    broker: Broker,
) -> None:
    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.id)

    registry, _ = registry_with(on_order, ("order.placed",))
    transport = broker.transport()
    async with (
        EventBus(registry, transport=broker.transport()),
        EventBus(Registry(), transport=transport) as publisher,
    ):
        await asyncio.to_thread(broker.server.stop)
        kept = await publisher.emit("order.placed", {"n": 1})
        with pytest.raises(TransportUnavailable, match="did not take 1 queued events"):
            await transport.flush(0.5)
        await asyncio.to_thread(broker.server.start)
        await transport.flush(30)
        await wait_until(lambda: received == [kept.id], timeout=30, what="the kept event")


@pytest.mark.server
async def test_start_fails_loudly_when_the_server_is_unreachable(broker: Broker) -> None:
    received: list[Event] = []

    async def on_order(event: Event) -> None:
        received.append(event)

    registry, _ = registry_with(on_order, ("order.placed",), broadcast=True)
    broker.server.stop()
    options = {"connect_timeout": 0.5} if broker.kind == "nats" else {}
    bus = EventBus(registry, transport=broker.transport(**options))
    with pytest.raises(TransportUnavailable, match="cannot reach"):
        await bus.start()
    assert not bus.running  # a process that cannot receive its events does not look healthy
    broker.server.start()
    async with bus:  # the same bus starts once the server is back
        event = await bus.emit("order.placed", {"order": 1})
        await wait_until(lambda: received, what="the event after the server came back")
    assert [e.id for e in received] == [event.id]


async def test_nats_without_jetstream_fails_at_start_and_leaves_no_connection(
    tmp_path: Path,
) -> None:
    server = NATSServer(tmp_path)
    server.command.remove("-js")
    server.start()
    try:
        registry, _ = registry_with(lambda: None, ("order.placed",))
        transport = NATSTransport([server.url])
        bus = EventBus(registry, transport=transport)
        with pytest.raises(TransportUnavailable, match="-js, or use NATSTransport"):
            await bus.start()
        assert not bus.running and transport._nc is None
    finally:
        server.stop()


async def test_shutdown_finishes_in_flight_work_within_the_grace_period(broker: Broker) -> None:
    started, finished = asyncio.Event(), []

    async def slow(event: Event) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(event.id)

    registry, listener = registry_with(slow, ("order.placed",))
    bus = EventBus(registry, transport=broker.transport(), grace_period=5.0)
    async with bus:
        event = await bus.emit("order.placed", {"n": 1})
        await started.wait()
    assert finished == [event.id]
    assert await broker.settled(listener.name, "order.placed")


async def test_work_past_the_grace_period_is_left_for_another_consumer(broker: Broker) -> None:
    runs: list[str] = []

    async def hangs_once(event: Event) -> None:
        runs.append(event.id)
        if len(runs) == 1:
            await asyncio.Event().wait()

    registry, listener = registry_with(hangs_once, ("order.placed",))
    options = {"ack_wait": 0.5} if broker.kind == "nats" else {"visibility_timeout": 0.5}
    async with EventBus(registry, transport=broker.transport(**options), grace_period=0.2) as bus:
        event = await bus.emit("order.placed", {"n": 1})
        await wait_until(lambda: runs, what="the first run")
    assert not await broker.settled(listener.name, "order.placed")
    async with EventBus(registry, transport=broker.transport(**options)):
        await wait_until(lambda: len(runs) == 2, what="the redelivery")
    assert runs == [event.id, event.id]


async def test_acquire_once_lets_one_caller_win_per_key_and_ttl(broker: Broker) -> None:
    first, second = broker.transport(), broker.transport()
    async with EventBus(Registry(), transport=first), EventBus(Registry(), transport=second):
        assert await first.acquire_once("cleanup:2026-01-01T00:00", ttl=1.0)
        assert not await second.acquire_once("cleanup:2026-01-01T00:00", ttl=1.0)
        assert await second.acquire_once("cleanup:2026-01-01T00:01", ttl=1.0)
        await wait_until(
            lambda: second.acquire_once("cleanup:2026-01-01T00:00", ttl=1.0),
            timeout=10,
            what="the key to expire",
        )


async def test_an_event_that_keeps_killing_its_consumers_is_dead_lettered(
    redis_server: RedisServer,
) -> None:
    """Redis: an entry already delivered max_deliveries times is not run again."""
    import redis.asyncio as redis

    runs: list[str] = []

    async def on_order(event: Event) -> None:
        runs.append(event.id)

    registry, listener = registry_with(on_order, ("order.placed",))
    fast = {"visibility_timeout": 0.2, "max_deliveries": 3}
    async with EventBus(registry, transport=RedisTransport(redis_server.url, **fast)):
        pass  # creates the consumer group
    data = Codec().encode(hand_made("order.placed", id="poison"))
    async with redis.Redis.from_url(redis_server.url) as client:
        entry_id = await client.xadd("ravyn:order.placed", {"data": data})
        # Three consumers took it and died without acknowledging it.
        await client.xreadgroup(listener.name, "dead-1", {"ravyn:order.placed": ">"})
        for consumer in ("dead-2", "dead-3"):
            await client.xclaim("ravyn:order.placed", listener.name, consumer, 0, [entry_id])
    with structlog.testing.capture_logs() as logs:
        async with EventBus(registry, transport=RedisTransport(redis_server.url, **fast)):
            await wait_until(RedisBroker(redis_server).dead_letters, what="the dead letter")
    assert runs == []
    [(letter, error)] = await RedisBroker(redis_server).dead_letters()
    assert letter == data and "delivered 3 times without an outcome" in error
    assert any(log["event"] == "event_dead_lettered" for log in logs)


@pytest.mark.server
async def test_broadcast_resumes_after_a_server_restart(broker: Broker) -> None:
    received: set[str] = set()

    async def on_order(event: Event) -> None:
        received.add(event.id)

    registry, _ = registry_with(on_order, ("order.placed",), broadcast=True)
    publisher = EventBus(Registry(), transport=broker.transport())
    async with EventBus(registry, transport=broker.transport()), publisher:
        await asyncio.to_thread(broker.server.restart)
        sent: set[str] = set()

        async def one_arrives() -> bool:  # at-most-once: those sent while away may be lost
            sent.add((await publisher.emit("order.placed", {})).id)
            return bool(sent & received)

        await wait_until(one_arrives, timeout=20, what="a broadcast after the restart")
        stopping = time.monotonic()
    # An idle subscription is cancelled at stop, not waited for during the grace period.
    assert time.monotonic() - stopping < 2


async def test_a_listener_running_past_the_visibility_timeout_is_not_run_again(
    broker: Broker,
) -> None:
    runs: list[str] = []
    release = asyncio.Event()

    async def slow(event: Event) -> None:
        runs.append(event.id)
        await release.wait()

    registry, listener = registry_with(slow, ("order.placed",))
    options = {"ack_wait": 0.3} if broker.kind == "nats" else {"visibility_timeout": 0.3}
    running = EventBus(registry, transport=broker.transport(**options))
    idle = EventBus(registry, transport=broker.transport(**options))  # would take it over
    async with running, idle:
        event = await running.emit("order.placed", {"n": 1})
        await wait_until(lambda: runs, what="the first run")
        # Five visibility timeouts: without a heartbeat, a second copy runs in this window.
        await asyncio.sleep(1.5)
        release.set()
        await wait_until(lambda: broker.settled(listener.name, "order.placed"))
    assert runs == [event.id]


@pytest.mark.parametrize("lost", ["consumer", "stream"])
async def test_nats_makes_a_lost_consumer_or_stream_again_and_skips_no_event(
    nats_server: NATSServer, lost: str
) -> None:
    import nats

    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.id)

    registry, listener = registry_with(on_order, ("order.placed",))
    async with EventBus(registry, transport=NATSBroker(nats_server).transport()) as bus:
        first = await bus.emit("order.placed", {"n": 1})
        await wait_until(lambda: received, what="the first event")
        nc = await nats.connect(nats_server.url)
        if lost == "consumer":
            await nc.jetstream().delete_consumer("RAVYN_EVENTS", durable_name(listener.name))
        else:
            await nc.jetstream().delete_stream("RAVYN_EVENTS")
        await nc.close()
        second = await bus.emit("order.placed", {"n": 2})
        await wait_until(lambda: len(received) == 2, what="the event sent after the loss")
    assert received == [first.id, second.id]


async def test_nats_without_jetstream_keeps_what_it_cannot_send_in_its_own_buffer(
    nats_server: NATSServer,
) -> None:
    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.id)

    registry, _ = registry_with(on_order, ("order.placed",), broadcast=True)
    broker = NATSBroker(nats_server)
    options: dict[str, Any] = {"jetstream": False}
    publisher = EventBus(
        Registry(), transport=broker.transport(**options, max_buffer=3, buffer_timeout=0.2)
    )
    async with EventBus(registry, transport=broker.transport(**options)), publisher:
        await asyncio.to_thread(nats_server.stop)
        buffered = [await publisher.emit("order.placed", {"n": n}) for n in range(3)]
        with pytest.raises(TransportUnavailable):  # not lost in the client's socket buffer
            await publisher.emit("order.placed", {"n": 3})
        await asyncio.to_thread(nats_server.start)
        await wait_until(
            lambda: {e.id for e in buffered} <= set(received), timeout=30, what="the buffer"
        )


@pytest.mark.server
async def test_events_still_buffered_when_the_grace_period_ends_are_logged_by_id(
    broker: Broker,
) -> None:
    publisher = EventBus(Registry(), transport=broker.transport(), grace_period=0.3)
    with structlog.testing.capture_logs() as logs:
        async with publisher:
            await asyncio.to_thread(broker.server.stop)
            unsent = [await publisher.emit("order.placed", {"n": n}) for n in range(2)]
    [log] = [log for log in logs if log["event"] == "events_not_sent"]
    assert log["event_ids"] == [event.id for event in unsent]
