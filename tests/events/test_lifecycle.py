"""Start/stop: drain within the grace period, cancel and log the rest; backpressure."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from ravyn.events import BusClosedError, EventBus, Registry, observable

pytestmark = pytest.mark.timeout(10)


async def test_stop_waits_for_listeners_within_the_grace_period(registry: Registry) -> None:
    done = []

    @observable(listen=["job"])
    async def short() -> None:
        await asyncio.sleep(0.05)
        done.append(True)

    bus = EventBus(registry, grace_period=2)
    async with bus:
        await bus.emit("job")
    assert done == [True]


async def test_stop_cancels_and_logs_what_outlives_the_grace_period(registry: Registry) -> None:
    cancelled = []

    @observable(listen=["job"])
    async def endless() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    bus = EventBus(registry, grace_period=0.05)
    with capture_logs() as logs:
        async with bus:
            event = await bus.emit("job")

    assert cancelled == [True]
    [log] = [log for log in logs if log["event"] == "listener_cancelled"]
    assert (log["event_name"], log["event_id"]) == ("job", event.id)
    assert log["listener"].endswith("endless")
    assert [log["cancelled"] for log in logs if log["event"] == "bus_stopped"] == [1]
    counters = bus.metrics.snapshot()["listeners"][log["listener"]]
    assert (counters["dropped"], counters["in_flight"]) == (1, 0)


async def test_a_stopped_bus_refuses_new_events(registry: Registry) -> None:
    bus = EventBus(registry)
    async with bus:
        pass
    with pytest.raises(BusClosedError, match="accepts no new event"):
        await bus.emit("late")


async def test_a_stopping_bus_refuses_events_from_its_listeners(registry: Registry) -> None:
    errors = []
    bus = EventBus(registry, grace_period=1)

    @observable(listen=["job"])
    async def emits_during_shutdown() -> None:
        await asyncio.sleep(0.02)
        try:
            await bus.emit("follow_up")
        except BusClosedError as exc:
            errors.append(exc)

    async with bus:
        await bus.emit("job")
    assert len(errors) == 1


async def test_backpressure_blocks_emit_at_the_limit_and_resumes(registry: Registry) -> None:
    release = asyncio.Event()

    @observable(listen=["job"])
    async def held() -> None:
        await release.wait()

    bus = EventBus(registry, max_in_flight=2)
    with capture_logs() as logs:
        async with bus:
            await bus.emit("job")
            await bus.emit("job")
            third = asyncio.create_task(bus.emit("job"))
            await asyncio.sleep(0.02)
            assert not third.done()  # waits for room rather than dropping
            assert bus.metrics.snapshot()["events"]["job"]["waiting"] == 1
            release.set()
            await asyncio.wait_for(third, 1)
            await bus.idle()

    assert [log["event"] for log in logs].count("bus_saturated") == 1
    counters = bus.metrics.snapshot()["events"]["job"]
    assert (counters["delivered"], counters["waiting"], counters["dropped"]) == (3, 0, 0)


async def test_idle_returns_at_once_when_nothing_runs(registry: Registry) -> None:
    bus = EventBus(registry)
    async with bus:
        await asyncio.wait_for(bus.idle(), 0.5)


async def test_deliver_runs_one_listener_and_raises_its_failure(registry: Registry) -> None:
    calls = []

    @observable(listen=["job"], retry=2)
    async def failing(n: int) -> None:
        calls.append(n)
        raise ValueError("nope")

    @observable(listen=["job"])
    async def other() -> None:
        calls.append("other")

    bus = EventBus(registry)
    event = await EventBus(Registry()).emit("job", {"n": 1})  # an event from elsewhere
    [listener] = [lsn for lsn in registry.listeners if lsn.name.endswith("failing")]
    with pytest.raises(ValueError, match="nope"):
        await bus.deliver(event, listener)
    assert calls == [1, 1]
    assert bus.metrics.snapshot()["listeners"][listener.name]["failed"] == 1


async def test_deliver_many_runs_each_event_concurrently_and_returns_each_outcome(
    registry: Registry,
) -> None:
    started: list[int] = []
    release = asyncio.Event()

    @observable(listen=["job"])
    async def job(n: int) -> None:
        started.append(n)
        if n % 2:  # odd ones suspend: they must all be started before any ends
            await release.wait()
        if n >= 2:
            raise ValueError(f"bad {n}")

    async with EventBus(registry) as bus:
        source = EventBus(Registry())
        events = [await source.emit("job", {"n": n}) for n in range(4)]
        [listener] = registry.listeners
        batch = asyncio.create_task(bus.deliver_many(events, listener))
        while started != [0, 1, 2, 3]:  # started at once, in order, without waiting
            await asyncio.sleep(0)
        assert not batch.done()
        release.set()
        errors = await batch
        assert [type(error) for error in errors] == [type(None), type(None), ValueError, ValueError]
        assert [str(error) for error in errors[2:]] == ["bad 2", "bad 3"]
        counters = bus.metrics.snapshot()["listeners"][listener.name]
        assert (counters["delivered"], counters["failed"], counters["in_flight"]) == (2, 2, 0)


async def test_a_cancelled_deliver_many_cancels_what_still_runs(registry: Registry) -> None:
    started: list[int] = []
    cancelled: list[int] = []

    @observable(listen=["job"])
    async def slow(n: int) -> None:
        started.append(n)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    async with EventBus(registry) as bus:
        events = [await EventBus(Registry()).emit("job", {"n": n}) for n in range(3)]
        batch = asyncio.create_task(bus.deliver_many(events, registry.listeners[0]))
        while len(started) < 3:
            await asyncio.sleep(0)
        batch.cancel()
        with pytest.raises(asyncio.CancelledError):
            await batch
        await asyncio.wait_for(bus.idle(), 5)
        assert sorted(cancelled) == [0, 1, 2]


async def test_deliver_local_can_run_only_broadcast_listeners(registry: Registry) -> None:
    ran = []

    @observable(listen=["job"], broadcast=True)
    async def everywhere() -> None:
        ran.append("broadcast")

    @observable(listen=["job"])
    async def once() -> None:
        ran.append("once")

    bus = EventBus(registry)
    event = await EventBus(Registry()).emit("job")
    await bus.deliver_local(event, broadcast_only=True)
    assert ran == ["broadcast"]
    await bus.deliver_local(event)
    assert sorted(ran) == ["broadcast", "broadcast", "once"]


async def test_listeners_emitting_on_a_saturated_bus_do_not_deadlock(registry: Registry) -> None:
    finished = []

    @observable(listen=["step"])
    async def relay(n: int) -> None:
        await asyncio.sleep(0.01)
        if n < 3:
            await bus.emit("step", {"n": n + 1})
        finished.append(n)

    bus = EventBus(registry, max_in_flight=1)
    async with bus:
        await bus.emit("step", {"n": 0})
        await asyncio.wait_for(bus.idle(), 2)
    assert sorted(finished) == [0, 1, 2, 3]


def test_the_default_bus_survives_event_loops(registry: Registry) -> None:
    """Work abandoned on a closed loop does not make the next loop's idle() hang."""
    ran = []

    @observable(listen=["job"])
    async def slow() -> None:
        await asyncio.sleep(0.01)
        ran.append(True)

    bus = EventBus(registry)

    async def abandon() -> None:
        await bus.start()
        await bus.emit("job")  # still in flight when this loop ends

    asyncio.run(abandon())

    async def again() -> None:
        await bus.emit("job", wait=True)
        await asyncio.wait_for(bus.idle(), 1)

    asyncio.run(again())
    assert ran == [True]
