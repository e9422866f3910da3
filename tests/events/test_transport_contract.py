"""With a transport, emit only publishes; listeners run when the transport delivers."""

from __future__ import annotations

import pytest

from ravyn.events import Event, EventBus, Registry, observable

pytestmark = pytest.mark.timeout(10)


class Loopback:
    """The smallest transport: keeps what is published until ``flush`` delivers it."""

    def __init__(self) -> None:
        self.bus: EventBus | None = None
        self.published: list[Event] = []
        self.stopped_with: float | None = None

    async def start(self, bus: EventBus) -> None:
        self.bus = bus

    async def publish(self, event: Event) -> None:
        self.published.append(event)

    async def flush(self) -> None:
        for event in self.published:
            await self.bus.deliver_local(event)
        self.published.clear()

    async def stop(self, grace_period: float) -> None:
        self.stopped_with = grace_period

    async def acquire_once(self, key: str, ttl: float) -> bool:
        return True


async def test_emit_publishes_and_listeners_run_on_delivery(registry: Registry) -> None:
    ran = []

    @observable(listen=["user_registered"])
    async def welcome(user_id: int) -> None:
        ran.append(user_id)

    transport = Loopback()
    bus = EventBus(registry, transport=transport, grace_period=0.5)
    async with bus:
        event = await bus.emit("user_registered", {"user_id": 1}, wait=True)
        await bus.emit_many(["a", "b"], None)
        assert ran == []  # the transport decides where listeners run
        assert [e.name for e in transport.published] == ["user_registered", "a", "b"]
        await transport.flush()
        await bus.idle()
    assert ran == [1]
    assert transport.published == [] and transport.stopped_with == 0.5
    counters = bus.metrics.snapshot()["events"]["user_registered"]
    assert (counters["emitted"], counters["delivered"]) == (1, 1)
    assert event.correlation_id == event.id
