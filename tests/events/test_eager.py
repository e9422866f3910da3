"""The eager start: listeners begin in the emitter's turn; only suspended ones need a task."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from ravyn.events import EventBus, Registry, observable

pytestmark = pytest.mark.timeout(10)


async def test_a_listener_that_never_suspends_has_finished_when_emit_returns(
    registry: Registry,
) -> None:
    calls = []

    @observable(listen=["tick"])
    async def instant(payload) -> None:
        calls.append(payload)

    async with EventBus(registry) as bus:
        for number in range(3):
            await bus.emit("tick", number)  # not wait=True: still done, nothing suspended
            assert calls[-1] == number


async def test_cancelling_the_emitter_leaves_started_listeners_running(registry: Registry) -> None:
    finished = []

    @observable(listen=["job"])
    async def slow() -> None:
        await asyncio.sleep(0.05)
        finished.append(True)

    async with EventBus(registry) as bus:
        emitter = asyncio.create_task(bus.emit("job", wait=True))
        await asyncio.sleep(0.01)
        emitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await emitter
        await bus.idle()
    assert finished == [True]


async def test_a_listener_cancelling_its_own_first_step(registry: Registry) -> None:
    outcomes = []

    @observable(listen=["warm"])
    async def warm() -> None:
        await asyncio.sleep(0)

    @observable(listen=["job"])
    async def expired_deadline() -> None:
        with anyio.move_on_after(0) as scope:
            await anyio.sleep(5)
        outcomes.append(scope.cancelled_caught)

    async with EventBus(registry) as bus:
        await bus.emit("warm", wait=True)  # the pool now holds a running carrier
        await asyncio.sleep(0)
        await bus.emit("job", wait=True)
        assert asyncio.current_task().cancelling() == 0
    assert outcomes == [True]


async def test_a_listener_raising_cancelled_error_is_a_failure_not_a_cancellation(
    registry: Registry,
) -> None:
    @observable(listen=["job"])
    async def raises() -> None:
        raise asyncio.CancelledError

    bus = EventBus(registry)
    await bus.emit("job")  # does not cancel the emitter
    assert bus.metrics.snapshot()["events"]["job"]["failed"] == 1


async def test_many_suspending_listeners_all_complete(registry: Registry) -> None:
    count = [0]
    for index in range(50):

        async def listener() -> None:
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            count[0] += 1

        listener.__qualname__ = f"listener_{index}"
        observable(listen=["many"])(listener)

    async with EventBus(registry) as bus:
        for _ in range(20):
            await bus.emit("many")
        await bus.idle()
    assert count[0] == 1000


async def test_a_cancellation_left_by_one_listener_does_not_reach_the_next(
    registry: Registry,
) -> None:
    outcomes = []

    @observable(listen=["first"])
    async def cancels_its_task_and_returns() -> None:
        asyncio.current_task().cancel()  # requested, never delivered: it returns at once

    @observable(listen=["second"])
    async def innocent() -> None:
        await asyncio.sleep(0.01)
        outcomes.append("innocent finished")

    async with EventBus(registry) as bus:
        await bus.emit("first", wait=True)
        await bus.emit("second", wait=True)
    assert outcomes == ["innocent finished"]
