"""Fan-out: concurrent, isolated, eager; listeners run in their own task identity."""

from __future__ import annotations

import asyncio
import threading
import time
from contextvars import ContextVar

import anyio
import pytest
from structlog.testing import capture_logs

from ravyn.events import Event, EventBus, current_event, observable, trigger_event

pytestmark = pytest.mark.timeout(10)


async def test_failures_reach_neither_sender_nor_siblings_and_are_logged(bus: EventBus) -> None:
    ran = []

    @observable(listen=["order_created"])
    async def fails_at_once() -> None:
        raise ValueError("broken at once")

    @observable(listen=["order_created"])
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("broken later")

    @observable(listen=["order_created"])
    def fails_in_thread() -> None:
        raise KeyError("broken in a thread")

    @observable(listen=["order_created"])
    async def healthy() -> None:
        await asyncio.sleep(0)
        ran.append("healthy")

    with capture_logs() as logs:
        event = await bus.emit("order_created", {"order_id": 1})

    assert ran == ["healthy"]
    failures = {
        log["listener"].rsplit(".", 1)[1]: log for log in logs if log["event"] == "listener_failed"
    }
    assert set(failures) == {"fails_at_once", "fails_later", "fails_in_thread"}
    for log in failures.values():
        assert log["event_name"] == "order_created"
        assert log["event_id"] == event.id
        assert isinstance(log["exc_info"], Exception)  # the traceback travels with the log
    snapshot = bus.metrics.snapshot()["events"]["order_created"]
    assert (snapshot["emitted"], snapshot["delivered"], snapshot["failed"]) == (1, 1, 3)


async def test_listeners_run_concurrently(bus: EventBus) -> None:
    @observable(listen=["slow"])
    async def first() -> None:
        await asyncio.sleep(0.2)

    @observable(listen=["slow"])
    async def second() -> None:
        await anyio.sleep(0.2)

    @observable(listen=["slow"])
    def third_in_thread() -> None:
        time.sleep(0.2)

    started = time.perf_counter()
    await bus.emit("slow", wait=True)
    assert time.perf_counter() - started < 0.35


async def test_sync_listeners_run_in_worker_threads(bus: EventBus) -> None:
    threads = []

    @observable(listen=["tick"])
    def blocking(count: int) -> None:
        threads.append((threading.current_thread(), count, current_event().name))

    await bus.emit("tick", {"count": 3})
    [(thread, count, name)] = threads
    assert thread is not threading.main_thread()
    assert (count, name) == (3, "tick")


async def test_started_bus_returns_before_slow_listeners_finish(bus: EventBus) -> None:
    release = asyncio.Event()
    done = []

    @observable(listen=["job"])
    async def slow() -> None:
        await release.wait()
        done.append(True)

    async with bus:
        await bus.emit("job")
        assert done == []
        release.set()
        await bus.idle()
        assert done == [True]


async def test_wait_true_waits_for_the_listeners(bus: EventBus) -> None:
    done = []

    @observable(listen=["job"])
    async def slow() -> None:
        await asyncio.sleep(0.05)
        done.append(True)

    async with bus:
        await bus.emit("job", wait=True)
        assert done == [True]


async def test_chain_carries_causation_and_correlation(bus: EventBus) -> None:
    seen = {}

    @observable(listen=["payment_required"])
    async def process_payment(payload) -> None:
        await asyncio.sleep(0)
        await trigger_event("payment_success", {"order_id": payload["order_id"]})

    @observable(listen=["payment_success"])
    @observable(send=["order_shipped"])
    async def ship(order_id: int) -> dict:
        seen["success"] = current_event()
        return {"order_id": order_id}

    @observable(listen=["order_shipped"])
    async def notify(order_id: int) -> None:
        seen["shipped"] = current_event()

    root = await bus.emit("payment_required", {"order_id": 9})

    success, shipped = seen["success"], seen["shipped"]
    assert success.causation_id == root.id
    assert shipped.causation_id == success.id
    assert root.correlation_id == success.correlation_id == shipped.correlation_id == root.id
    assert shipped.payload == {"order_id": 9}


async def test_wildcards_select_one_segment(bus: EventBus) -> None:
    got = []

    @observable(listen=["user.*"])
    async def any_user_event(event: Event) -> None:
        got.append(event.name)

    for name in ("user.created", "user.deleted", "user", "user.profile.updated", "users.x"):
        await bus.emit(name)
    assert got == ["user.created", "user.deleted"]


async def test_a_listener_registered_later_is_found(bus: EventBus) -> None:
    got = []
    await bus.emit("late")

    @observable(listen=["late"])
    async def late() -> None:
        got.append(True)

    await bus.emit("late")
    assert got == [True]


async def test_listener_sees_its_own_task_around_awaits(bus: EventBus) -> None:
    """asyncio.timeout, TaskGroup and anyio scopes capture the current task before the
    first await: it must be the task that runs the rest of the listener."""
    results = []

    @observable(listen=["go"])
    async def with_asyncio_timeout() -> None:
        async with asyncio.timeout(5):
            await asyncio.sleep(0.01)
        results.append("asyncio.timeout")

    @observable(listen=["go"])
    async def with_task_group() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(asyncio.sleep(0.01))
        results.append("TaskGroup")

    @observable(listen=["go"])
    async def with_anyio_scope() -> None:
        with anyio.fail_after(5):
            await anyio.sleep(0.01)
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.sleep, 0.01)
        results.append("anyio")

    @observable(listen=["go"])
    async def times_out_itself() -> None:
        with anyio.move_on_after(0.01):
            await anyio.sleep(5)
        results.append("moved on")

    emitter = asyncio.current_task()
    async with bus:
        await bus.emit("go", wait=True)
    assert sorted(results) == ["TaskGroup", "anyio", "asyncio.timeout", "moved on"]
    assert emitter.cancelling() == 0


async def test_listener_context_changes_stay_in_the_listener(bus: EventBus) -> None:
    var: ContextVar[str] = ContextVar("var", default="emitter")
    seen = []

    @observable(listen=["go"])
    async def first() -> None:
        var.set("first")
        await asyncio.sleep(0)
        seen.append(var.get())

    @observable(listen=["go"])
    async def second() -> None:
        seen.append(var.get())

    await bus.emit("go")
    assert sorted(seen) == ["emitter", "first"]
    assert var.get() == "emitter"


async def test_trigger_event_in_a_listener_lands_on_the_listeners_bus(registry) -> None:
    from ravyn.events.testing import capture

    @observable(listen=["first"])
    async def relay() -> None:
        await trigger_event("second", {"n": 1})

    bus = EventBus(registry)  # not the current bus of this task
    with capture(bus) as captured:
        await bus.emit("first")
    assert captured.names() == ["first", "second"]


async def test_events_carry_the_request_correlation_id_and_traceparent(bus: EventBus) -> None:
    from ravyn.events import correlation_context

    seen = []

    @observable(listen=["first"])
    async def relay() -> None:
        seen.append(await trigger_event("second"))

    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with correlation_context("request-1", traceparent):
        first = await bus.emit("first")
    [second] = seen
    for event in (first, second):
        assert event.correlation_id == "request-1"
        assert event.headers["traceparent"] == traceparent
    assert second.causation_id == first.id and first.causation_id is None
