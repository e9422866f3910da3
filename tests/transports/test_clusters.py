"""docs_src/transports/clusters.py, as written: its URLs parsed, then run on real clusters."""

from __future__ import annotations

from types import ModuleType

import pytest

from ravyn.events import Event, EventBus, Listener, Registry, use_registry
from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport
from tests.support.clusters import NATSCluster, RedisClusterNodes, RedisSentinels
from tests.support.samples import load_sample

from .brokers import wait_until

pytestmark = pytest.mark.timeout(60)


def load_clusters() -> ModuleType:
    with use_registry(Registry()):
        return load_sample("transports/clusters.py")


def recording(received: list[Event]) -> Registry:
    """A durable listener of every `order.*` event and a broadcast one of `order.placed`."""

    async def fulfil(event: Event) -> None:
        received.append(event)

    async def refresh(event: Event) -> None:
        received.append(event)

    registry = Registry()
    registry.add_listener(Listener(fulfil, ("order.*",)))
    registry.add_listener(Listener(refresh, ("order.placed",), broadcast=True))
    return registry


async def round_trip(transport: object) -> list[Event]:
    """50 events of two names through the transport: each runs the durable listener once,
    `order.placed` also the broadcast one."""
    received: list[Event] = []
    async with EventBus(recording(received), transport=transport) as bus:
        placed = [await bus.emit("order.placed", {"n": n}) for n in range(25)]
        paid = [await bus.emit("order.paid", {"n": n}) for n in range(25)]
        await wait_until(lambda: len(received) >= 75, timeout=30, what="every delivery")
    ids = sorted(event.id for event in received)
    assert ids == sorted([e.id for e in placed] * 2 + [e.id for e in paid])
    return received


def test_the_sample_urls_name_every_node(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NATS_CLUSTER_URL", "REDIS_SENTINEL_URL", "REDIS_CLUSTER_URL"):
        monkeypatch.delenv(name, raising=False)
    sample = load_clusters()
    by_url, by_object = (
        sample.on_nats_cluster.events.transport,
        sample.on_nats_servers.events.transport,
    )
    for transport in (by_url, by_object):
        assert isinstance(transport, NATSTransport) and transport.replicas == 3
        assert transport.servers == [f"nats://10.0.0.{n}:4222" for n in (1, 2, 3)]
    sentinel = sample.on_sentinel.events.transport
    assert isinstance(sentinel, RedisTransport) and sentinel.replica_acks == 1
    assert "?" not in sentinel.url
    cluster = sample.on_redis_cluster.events.transport
    assert isinstance(cluster, RedisTransport)
    assert (cluster.key("order.placed"), cluster.dead_letter_stream) == (
        "{shop}:order.placed",
        "{shop}:dead",
    )


async def test_the_nats_cluster_sample_keeps_its_streams_on_three_servers(
    nats_cluster: NATSCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nats

    monkeypatch.setenv("NATS_CLUSTER_URL", nats_cluster.url(replicas=3))
    await round_trip(load_clusters().on_nats_cluster.events.transport)
    nc = await nats.connect(nats_cluster.servers)
    try:
        for stream in ("RAVYN_EVENTS", "RAVYN_DEAD"):
            info = await nc.jetstream().stream_info(stream)
            assert info.config.num_replicas == 3 and len(info.cluster.replicas) == 2
    finally:
        await nc.close()


async def test_the_sentinel_sample_finds_the_primary(
    redis_sentinels: RedisSentinels, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_SENTINEL_URL", f"{redis_sentinels.url()}?replica_acks=1")
    await round_trip(load_clusters().on_sentinel.events.transport)


async def test_the_redis_cluster_sample_keeps_a_prefix_in_one_slot(
    redis_cluster: RedisClusterNodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.asyncio.cluster import RedisCluster

    monkeypatch.setenv("REDIS_CLUSTER_URL", f"{redis_cluster.url()}?prefix=shop")
    await round_trip(load_clusters().on_redis_cluster.events.transport)
    client = RedisCluster(host="127.0.0.1", port=redis_cluster.nodes[0].port)
    try:
        slots = {client.keyslot(key) for key in await client.keys("{shop}:*")}
        assert len(slots) == 1 and await client.exists("{shop}:order.paid")
    finally:
        await client.aclose()


def test_replica_acks_is_refused_on_a_redis_cluster() -> None:
    from ravyn.events.transports import transport_from_url

    with pytest.raises(ValueError, match="not a Cluster"):
        transport_from_url("redis+cluster://n1:6379?replica_acks=1")
    with pytest.raises(ValueError, match="use a number"):
        transport_from_url("nats://a:4222,b:4222?replicas=three")
