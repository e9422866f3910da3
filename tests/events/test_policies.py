"""Per-listener policy: timeout, retry with backoff, max_concurrency."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from structlog.testing import capture_logs

from ravyn.events import EventBus, Listener, RetryPolicy, observable

pytestmark = pytest.mark.timeout(10)


async def test_timeout_fails_the_listener_alone(bus: EventBus) -> None:
    ran = []

    @observable(listen=["job"], timeout=0.05)
    async def too_slow() -> None:
        await asyncio.sleep(5)

    @observable(listen=["job"])
    async def fine() -> None:
        ran.append(True)

    with capture_logs() as logs:
        started = time.perf_counter()
        await bus.emit("job")
    assert time.perf_counter() - started < 1
    assert ran == [True]
    [failure] = [log for log in logs if log["event"] == "listener_failed"]
    assert failure["reason"] == "timeout"
    counters = bus.metrics.snapshot()["listeners"][failure["listener"]]
    assert (counters["timed_out"], counters["failed"], counters["in_flight"]) == (1, 1, 0)


async def test_retry_with_backoff_until_success(bus: EventBus) -> None:
    attempts = []

    @observable(listen=["job"], retry=RetryPolicy(max_attempts=3, initial_delay=0.02, jitter=False))
    async def flaky() -> None:
        attempts.append(time.perf_counter())
        if len(attempts) < 3:
            raise ConnectionError("try again")

    with capture_logs() as logs:
        await bus.emit("job")

    assert len(attempts) == 3
    assert attempts[1] - attempts[0] >= 0.02
    assert attempts[2] - attempts[1] >= 0.04  # the backoff doubles
    assert [log["attempt"] for log in logs if log["event"] == "listener_retry"] == [1, 2]
    assert not [log for log in logs if log["event"] == "listener_failed"]
    counters = bus.metrics.snapshot()["events"]["job"]
    assert (counters["retried"], counters["delivered"], counters["failed"]) == (2, 1, 0)


async def test_retry_gives_up_after_the_last_attempt(bus: EventBus) -> None:
    attempts = []

    @observable(listen=["job"], retry=2, timeout=0.02)
    async def always_slow() -> None:
        attempts.append(1)
        await asyncio.sleep(1)

    with capture_logs() as logs:
        await bus.emit("job")
    assert len(attempts) == 2
    assert [log["reason"] for log in logs if log["event"] == "listener_failed"] == ["timeout"]
    counters = bus.metrics.snapshot()["events"]["job"]
    assert (counters["retried"], counters["timed_out"], counters["failed"]) == (1, 2, 1)


async def test_binding_failures_are_not_retried(bus: EventBus) -> None:
    @observable(listen=["job"], retry=3)
    async def needs(user_id: int) -> None: ...

    with capture_logs() as logs:
        await bus.emit("job", {"user_id": "x"})
    assert [log["reason"] for log in logs if log["event"] == "listener_failed"] == ["binding"]
    assert bus.metrics.snapshot()["events"]["job"]["retried"] == 0


async def test_max_concurrency_limits_parallel_executions(bus: EventBus) -> None:
    running = [0]
    peak = [0]

    @observable(listen=["job"], max_concurrency=2)
    async def limited() -> None:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.02)
        running[0] -= 1

    async with bus:
        for _ in range(6):
            await bus.emit("job")
        await bus.idle()
    assert peak[0] == 2
    assert bus.metrics.snapshot()["events"]["job"]["delivered"] == 6


def test_retry_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="1 or more"):
        RetryPolicy(max_attempts=0)


def test_backoff_doubles_up_to_its_maximum() -> None:
    retry = RetryPolicy(max_attempts=10, initial_delay=0.5, max_delay=3.0, jitter=False)
    assert [retry.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_metrics_snapshot_is_plain_data(bus: EventBus) -> None:
    import json

    @observable(listen=["job"])
    async def listener() -> None: ...

    await bus.emit("job")
    snapshot = bus.metrics.snapshot()
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert snapshot["events"]["job"]["delivered"] == 1


async def test_a_sync_listener_past_its_timeout_is_a_timeout_and_its_late_finish_is_logged(
    bus: EventBus,
) -> None:
    release = threading.Event()
    finished = threading.Event()

    with capture_logs() as declared:

        @observable(listen=["job"], timeout=0.05)
        def blocking() -> None:
            release.wait(5)
            finished.set()

    assert [log["event"] for log in declared] == ["listener_timeout_cannot_stop_a_thread"]
    with capture_logs() as logs:
        async with bus:
            await bus.emit("job", wait=True)
            [failure] = [log for log in logs if log["event"] == "listener_failed"]
            assert failure["reason"] == "timeout"
            counters = bus.metrics.snapshot()["listeners"][failure["listener"]]
            assert (counters["delivered"], counters["timed_out"]) == (0, 1)
            release.set()
            await asyncio.to_thread(finished.wait, 5)
            for _ in range(500):  # the thread logs its late finish just after `finished`
                if any(log["event"] == "listener_finished_late" for log in logs):
                    break
                await asyncio.sleep(0.01)
    [late] = [log for log in logs if log["event"] == "listener_finished_late"]
    assert late["listener"] == failure["listener"] and late["seconds"] > 0


def test_one_retry_type_serves_listeners_and_routes() -> None:
    import ravyn
    import ravyn.events
    from ravyn.resilience import RetryPolicy as RouteRetry

    assert ravyn.Retry is ravyn.events.Retry is ravyn.RetryPolicy is RouteRetry is RetryPolicy
    policy = RetryPolicy(max_attempts=4, initial_delay=0.2, backoff_multiplier=3.0, jitter=False)

    def job() -> None: ...

    assert Listener(job, ("job",), retry=policy).policy.retry is policy
    assert Listener(job, ("job",), retry=2).policy.retry == RetryPolicy(max_attempts=2)
    assert [policy.delay(n) for n in (1, 2, 3)] == pytest.approx([0.2, 0.6, 1.8])
    jittered = RetryPolicy(initial_delay=1.0)
    assert all(0.5 <= jittered.delay(1) <= 1.0 for _ in range(50))
