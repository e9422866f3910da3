"""The eager start: listeners begin in the emitter's turn; only suspended ones need a task."""

from __future__ import annotations

import asyncio
import gc
from collections import Counter
from contextvars import copy_context
from typing import Any

import anyio
import pytest
from structlog.testing import capture_logs

from ravyn.events import EventBus, Registry, observable
from ravyn.events.eager import EagerRunner

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


async def test_a_suspended_listener_keeps_few_more_objects_than_a_task_of_its_own(
    registry: Registry,
) -> None:
    """In a burst every suspended listener is alive at once and the cyclic collector walks
    them all, again and again: a carried listener must cost about what a task costs."""
    gate = asyncio.Event()
    for index in range(10):

        async def waits() -> None:
            await gate.wait()

        waits.__qualname__ = f"waits_{index}"
        observable(listen=["job"])(waits)

    async def own_task() -> None:
        await gate.wait()

    async with EventBus(registry) as bus:
        await bus.emit("job")  # warm: the targets are built, the pool holds carriers
        gate.set()
        await bus.idle()
        gate.clear()
        gc.collect()
        gc.disable()
        try:
            before = len(gc.get_objects())
            for _ in range(100):
                await bus.emit("job")
            await asyncio.sleep(0)  # each carrier has run: it waits with its listener
            carried = (len(gc.get_objects()) - before) / 1000
            before = len(gc.get_objects())
            tasks = [asyncio.create_task(own_task()) for _ in range(1000)]
            await asyncio.sleep(0)
            own = (len(gc.get_objects()) - before) / 1000
            gate.set()
            await bus.idle()
            await asyncio.gather(*tasks)
        finally:
            gc.enable()
    assert carried <= own + 4, (carried, own)


async def test_failures_leave_nothing_for_the_cyclic_collector(
    registry: Registry,
) -> None:
    @observable(listen=["job"])
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    @observable(listen=["job"], timeout=0.001)
    async def times_out() -> None:
        await asyncio.sleep(5)

    @observable(listen=["job"])
    async def fails_at_once() -> None:  # never carried: fails in its first step
        raise ValueError("at once")

    async with EventBus(registry) as bus:
        await bus.emit("job")
        await bus.idle()
        gc.collect()
        gc.disable()
        try:
            with capture_logs() as logs:  # kept, not rendered: rendering is not under test
                for _ in range(20):
                    await bus.emit("job")
                await bus.idle()
            reasons = Counter(log["reason"] for log in logs if log["event"] == "listener_failed")
            logs.clear()  # the logs hold the exceptions: only what nothing holds is counted
            unreachable = gc.collect()
        finally:
            gc.enable()
    assert reasons == {"exception": 40, "timeout": 20}
    assert unreachable == 0


async def test_a_burst_reuses_the_last_bursts_carriers_and_the_pool_shrinks_after() -> None:
    ended: list[int] = []
    runner = EagerRunner(lambda token, exc: ended.append(token), keep_idle=2, trim_after=0.05)
    tasks_seen: list[asyncio.Task[Any] | None] = []

    async def pause() -> None:
        tasks_seen.append(asyncio.current_task())
        await asyncio.sleep(0)

    async def burst(size: int) -> set[asyncio.Task[Any] | None]:
        tasks_seen.clear()
        ended.clear()
        session = runner.enter()
        try:
            for token in range(size):
                runner.step(session, pause(), copy_context(), token)
        finally:
            runner.exit(session)
        while len(ended) < size:
            await asyncio.sleep(0)
        return set(tasks_seen)

    before = len(asyncio.all_tasks())
    first = await burst(50)
    assert len(first) == 50  # each listener had a task of its own
    assert await burst(50) <= first  # the second burst found them idle: no new task
    with anyio.fail_after(5):
        while len(asyncio.all_tasks()) > before + 2:  # dismissed down to keep_idle
            await asyncio.sleep(0.01)
    runner.cancel()
    await runner.wait_closed()
    assert len(asyncio.all_tasks()) == before
