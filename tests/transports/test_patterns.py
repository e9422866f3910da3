"""Wildcard listeners across processes: the broker's wildcard is wider, ravyn filters."""

from __future__ import annotations

import pytest

from ravyn.events import Event, EventBus, Listener, Registry

from .brokers import Broker, wait_until

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("broadcast", [False, True], ids=["durable", "broadcast"])
async def test_a_pattern_listener_gets_the_names_it_matches_even_new_ones(
    broker: Broker, broadcast: bool
) -> None:
    received: list[str] = []

    async def on_order(event: Event) -> None:
        received.append(event.name)

    registry = Registry()
    registry.add_listener(Listener(on_order, ("order.*",), broadcast=broadcast))
    options = {"visibility_timeout": 0.4} if broker.kind == "redis" else {}
    publisher = EventBus(Registry(), transport=broker.transport())
    async with publisher:
        await publisher.emit("order.placed", {})  # its stream exists before the listener
        async with EventBus(registry, transport=broker.transport(**options)):
            for name in ("order.placed", "order.a.b", "orders.x", "order.shipped", "order.paid"):
                await publisher.emit(name, {})
            await wait_until(lambda: len(received) >= 3, what="the matching events")
            await publisher.emit("order.last", {})
            await wait_until(lambda: "order.last" in received, what="the last one")
    assert sorted(received) == ["order.last", "order.paid", "order.placed", "order.shipped"]
