"""Clustered brokers losing a node in the middle of a stream of durable events.

An app (this process's bus) emits 2,000 events while a worker process consumes them; one
node dies by SIGKILL part-way. Every event must be handled at least once; the duplicates a
failover causes (deliveries whose ack was lost) are counted and reported, not hidden.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ravyn.events import EventBus, Registry
from ravyn.events.transports import transport_from_url
from ravyn.events.transports.nats import durable_name
from tests.support.clusters import NATSCluster, RedisSentinels, wait_for

from .brokers import Outcomes, Worker, wait_until

pytestmark = pytest.mark.timeout(150)

EVENTS = 2_000
KILL_AT = 700
FULFIL = "tests.transports.listeners_app:fulfil_order"


@dataclass
class Endpoint:
    kind: str
    url: str


async def emit_a_stream(bus: EventBus, kill: Any) -> list[str]:
    """EVENTS events in small bursts (a stream, not one batch); `kill()` at KILL_AT."""
    ids = []
    for n in range(EVENTS):
        ids.append((await bus.emit("order.placed", {"order": n})).id)
        if n % 50 == 49:
            await asyncio.sleep(0.005)
        if n == KILL_AT:
            kill()
    return ids


def report(outcomes: Outcomes, emitted: list[str]) -> Counter[str]:
    handled = Counter(event_id for _, event_id in outcomes.lines("durable"))
    duplicates = sum(count - 1 for count in handled.values())
    print(f"{len(emitted)} emitted, {len(handled)} handled, {duplicates} duplicate deliveries")
    return handled


async def test_a_nats_node_killed_mid_stream_loses_no_event_and_rejoins(
    nats_cluster: NATSCluster, outcomes: Outcomes, tmp_path: Path
) -> None:
    import nats

    url = nats_cluster.url(replicas=3)
    worker = Worker(Endpoint("nats", url), outcomes, tmp_path / "worker.log")
    nc = await nats.connect(nats_cluster.servers, max_reconnect_attempts=-1)
    js = nc.jetstream()
    try:
        await worker.ready()
        info = await js.stream_info("RAVYN_EVENTS")
        assert info.config.num_replicas == 3
        # The stream's leader holds the writes: losing it is the failover that matters.
        victim = next(node for node in nats_cluster.nodes if node.name == info.cluster.leader)

        transport = transport_from_url(url, publish_timeout=2.0)
        async with EventBus(Registry(), transport=transport, grace_period=60) as bus:
            emitted = await emit_a_stream(bus, victim.kill)

        async def all_handled() -> bool:
            return set(emitted) <= {event_id for _, event_id in outcomes.lines("durable")}

        await wait_until(all_handled, timeout=60, what="every event handled once at least")
        handled = report(outcomes, emitted)
        assert set(handled) == set(emitted)

        async def settled() -> bool:  # no listener stuck with unacknowledged messages
            consumer = await js.consumer_info("RAVYN_EVENTS", durable_name(FULFIL))
            return consumer.num_pending == 0 and consumer.num_ack_pending == 0

        await wait_until(settled, timeout=30, what="the consumer to settle")

        victim.start()

        async def rejoined() -> bool:
            cluster = (await js.stream_info("RAVYN_EVENTS")).cluster
            peers = [cluster.leader] + [peer.name for peer in cluster.replicas or ()]
            current = all(peer.current and not peer.offline for peer in cluster.replicas or ())
            return victim.name in peers and current

        await wait_until(rejoined, timeout=30, what="the killed node to rejoin the stream")
    finally:
        await nc.close()
        worker.kill()
        print(f"--- worker ---\n{worker.log.read_text()[-3000:]}")


async def test_a_sentinel_failover_mid_stream_loses_no_event_with_replica_acks(
    redis_sentinels: RedisSentinels, outcomes: Outcomes, tmp_path: Path
) -> None:
    url = f"{redis_sentinels.url()}?replica_acks=1"
    worker = Worker(Endpoint("redis", url), outcomes, tmp_path / "worker.log")
    old_primary, replica = redis_sentinels.primary, redis_sentinels.replica
    try:
        await worker.ready()
        transport = transport_from_url(url, replica_ack_timeout=0.5)
        async with EventBus(Registry(), transport=transport, grace_period=60) as bus:
            emitting = asyncio.create_task(emit_a_stream(bus, old_primary.kill))
            # Sentinel promotes the replica; the old primary comes back (as a supervisor
            # would start it) and is made a replica of the new one: WAIT 1 passes again.
            await asyncio.to_thread(
                wait_for, lambda: redis_sentinels.primary_port() == replica.port, "a failover"
            )
            old_primary.start()
            emitted = await emitting

        async def all_handled() -> bool:
            return set(emitted) <= {event_id for _, event_id in outcomes.lines("durable")}

        await wait_until(all_handled, timeout=60, what="every event handled once at least")
        handled = report(outcomes, emitted)
        assert set(handled) == set(emitted)
    finally:
        worker.kill()
        print(f"--- worker ---\n{worker.log.read_text()[-3000:]}")
