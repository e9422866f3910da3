"""``defer=True``: listeners start on the next turn of the loop, every deferred event of
that turn together, with the emitter's context, counted as in flight until then."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

import pytest
import uvloop

from ravyn.events import EventBus, Registry, bus_context, correlation_context, observable

pytestmark = pytest.mark.timeout(10)

tenant: ContextVar[str] = ContextVar("tenant", default="none")


async def test_deferred_listeners_start_on_the_next_loop_turn(registry: Registry) -> None:
    calls = []

    @observable(listen=["tick"])
    async def instant(payload) -> None:
        calls.append(payload)

    async with EventBus(registry) as bus:
        await bus.emit("tick", 1, defer=True)
        await bus.emit_many(["tick", "tick"], 2, defer=True)
        assert calls == []  # queued, and counted: idle() waits for it
        assert bus.metrics.snapshot()["events"]["tick"]["emitted"] == 3
        await bus.idle()
        assert calls == [1, 2, 2]


async def test_deferred_listeners_see_the_emitters_context(registry: Registry) -> None:
    seen = []

    @observable(listen=["order_paid"])
    async def record(order_id: int) -> None:
        seen.append((order_id, tenant.get()))

    async def handle_request(order_id: int, name: str) -> str:
        tenant.set(name)
        with correlation_context(f"request-{order_id}"):
            event = await bus.emit("order_paid", {"order_id": order_id}, defer=True)
        return event.correlation_id

    async with EventBus(registry) as bus:
        correlations = await asyncio.gather(
            handle_request(1, "acme"), handle_request(2, "umbrella")
        )
        await bus.idle()
    assert correlations == ["request-1", "request-2"]
    assert sorted(seen) == [(1, "acme"), (2, "umbrella")]


async def test_deferred_events_wait_for_room_at_the_limit(registry: Registry) -> None:
    release = asyncio.Event()

    @observable(listen=["job"])
    async def held() -> None:
        await release.wait()

    async with EventBus(registry, max_in_flight=2) as bus:
        await bus.emit("job", defer=True)
        await bus.emit("job", defer=True)
        third = asyncio.create_task(bus.emit("job", defer=True))
        await asyncio.sleep(0)  # one loop turn: both deferred events start, holding both
        # slots, and the third emit runs up to its wait for room
        assert not third.done()
        assert bus.metrics.snapshot()["events"]["job"]["waiting"] == 1
        release.set()
        await asyncio.wait_for(third, 1)
        await bus.idle()
    assert bus.metrics.snapshot()["events"]["job"]["delivered"] == 3


async def test_a_request_or_job_with_the_bus_current_waits_for_room_too(
    registry: Registry,
) -> None:
    """An app makes its bus current for each request and job (``bus_context``): their
    emits must still wait at the limit; only a listener's own emits may not."""
    release = asyncio.Event()

    @observable(listen=["job"])
    async def held() -> None:
        await release.wait()

    async with EventBus(registry, max_in_flight=2) as bus:
        with bus_context(bus):
            await bus.emit("job", defer=True)
            await bus.emit("job", defer=True)
            third = asyncio.create_task(bus.emit("job", defer=True))
        await asyncio.sleep(0)  # both deferred events start and hold both slots
        await asyncio.sleep(0)
        assert not third.done()
        assert bus.metrics.snapshot()["events"]["job"]["in_flight"] == 2
        release.set()
        await asyncio.wait_for(third, 1)
        await bus.idle()
    assert bus.metrics.snapshot()["events"]["job"]["delivered"] == 3


async def test_stop_starts_and_drains_what_was_deferred(registry: Registry) -> None:
    calls = []

    @observable(listen=["tick"])
    async def slow() -> None:
        await asyncio.sleep(0.01)
        calls.append(True)

    bus = EventBus(registry)
    await bus.start()
    await bus.emit("tick", defer=True)
    await bus.stop()
    assert calls == [True]


async def test_an_unstarted_bus_runs_deferred_listeners_before_returning(
    registry: Registry,
) -> None:
    calls = []

    @observable(listen=["tick"])
    async def instant() -> None:
        calls.append(True)

    await EventBus(registry).emit("tick", defer=True)
    assert calls == [True]


async def test_waiting_and_deferring_at_once_is_refused(registry: Registry) -> None:
    async with EventBus(registry) as bus:
        with pytest.raises(ValueError, match="choose one"):
            await bus.emit("tick", wait=True, defer=True)


@pytest.mark.parametrize(
    "loop_factory",
    [uvloop.new_event_loop, asyncio.new_event_loop],
    ids=["uvloop", "asyncio in debug mode"],
)
def test_deferred_listeners_start_on_other_loops(registry: Registry, loop_factory) -> None:
    """Where the bus cannot append its handle to asyncio's ready queue itself, it asks
    the loop (``call_soon``): every deferred event still starts on the next turn."""
    calls = []

    @observable(listen=["tick"])
    async def instant(payload) -> None:
        calls.append(payload)

    async def main() -> None:
        async with EventBus(registry) as bus:
            for number in range(3):
                await bus.emit("tick", number, defer=True)
            assert calls == []
            await asyncio.sleep(0)
            assert calls == [0, 1, 2]

    with asyncio.Runner(loop_factory=loop_factory, debug=True) as runner:
        runner.run(main())
