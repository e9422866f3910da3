import threading
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from asyncz.triggers import DateTrigger, IntervalTrigger
from structlog.testing import capture_logs

from ravyn.contrib.schedulers.asyncz.decorator import scheduler
from ravyn.contrib.schedulers.asyncz.runner import configure_scheduler, scheduler_lifespan
from ravyn.events.bus import EventBus
from ravyn.events.decorators import observable
from ravyn.events.registry import Registry, use_registry

pytestmark = pytest.mark.timeout(20)

FAST = IntervalTrigger(seconds=0.05)


@pytest.fixture
def registry():
    with use_registry(Registry()) as fresh:
        yield fresh


async def test_without_jobs_the_lifespan_does_nothing(registry):
    async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
        assert asyncz_scheduler is None


async def test_interval_job_fires_repeatedly_and_its_event_reaches_a_listener(registry):
    received: list[dict] = []
    three_received = anyio.Event()

    @scheduler(name="tick", trigger=FAST)
    @observable(send=["ticked"])
    async def tick() -> dict:
        return {"at": datetime.now(UTC).isoformat()}

    @observable(listen=["ticked"])
    async def on_tick(payload: dict) -> None:
        received.append(payload)
        if len(received) == 3:
            three_received.set()

    async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
        assert asyncz_scheduler is not None
        with anyio.fail_after(5):
            await three_received.wait()
    assert all("at" in payload for payload in received)


async def test_failing_job_is_logged_and_keeps_firing(registry):
    attempts = 0
    third_attempt = anyio.Event()

    @scheduler(name="flaky", trigger=FAST)
    async def flaky() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 3:
            third_attempt.set()
        raise RuntimeError(f"attempt {attempts} failed")

    with capture_logs() as logs:
        async with EventBus(registry) as bus, scheduler_lifespan(bus):
            with anyio.fail_after(5):
                await third_attempt.wait()
    failures = [entry for entry in logs if entry["event"] == "scheduled_job_failed"]
    assert len(failures) >= 2
    assert failures[0]["job"] == "flaky"
    assert failures[0]["exc_info"] is True
    assert failures[0]["log_level"] == "error"
    assert datetime.fromisoformat(failures[0]["fire_time"]).tzinfo is not None


async def test_sync_job_runs_in_a_worker_thread_with_the_app_bus(registry):
    ran_in: list[str] = []
    ran = anyio.Event()
    loop_thread = threading.current_thread().name

    @scheduler(name="sync_job", trigger=FAST)
    def sync_job() -> None:
        from ravyn.events.context import current_bus

        ran_in.append(threading.current_thread().name)
        assert current_bus() is bus
        anyio.from_thread.run_sync(ran.set)

    async with EventBus(registry) as bus, scheduler_lifespan(bus):
        with anyio.fail_after(5):
            await ran.wait()
    assert ran_in[0] != loop_thread


async def test_the_decorated_function_stays_callable(registry):
    received: list[dict] = []

    @scheduler(name="report", cron="0 2 * * *")
    @observable(send=["report_ready"])
    async def report() -> dict:
        return {"rows": 3}

    @observable(listen=["report_ready"])
    async def on_report(payload: dict) -> None:
        received.append(payload)

    async with EventBus(registry) as bus:
        from ravyn.events.context import bus_context

        with bus_context(bus):
            assert await report() == {"rows": 3}
        await bus.idle()
    assert received == [{"rows": 3}]


async def test_run_task_now_goes_through_the_same_path(registry):
    ran = anyio.Event()

    @scheduler(name="nightly", cron="0 2 * * *")
    async def nightly() -> None:
        ran.set()

    async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
        asyncz_scheduler.run_task("nightly")
        with anyio.fail_after(5):
            await ran.wait()


async def test_shutdown_waits_briefly_then_cancels_and_logs(registry):
    started = anyio.Event()
    finished = []

    @scheduler(name="slow", trigger=DateTrigger(run_at=datetime.now(UTC)), misfire_grace_time=None)
    async def slow() -> None:
        started.set()
        await anyio.sleep(30)
        finished.append(True)

    with capture_logs() as logs:
        async with EventBus(registry) as bus:
            with anyio.fail_after(5):
                async with scheduler_lifespan(bus, shutdown_grace=0.05):
                    await started.wait()
    assert finished == []
    assert any(entry["event"] == "scheduled_jobs_cancelled" for entry in logs)


async def test_configure_scheduler_sets_the_time_zone(registry):
    configure_scheduler(timezone="Asia/Tokyo")

    @scheduler(name="tokyo_noon", cron="0 12 * * *")
    async def tokyo_noon() -> None: ...

    async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
        [task] = asyncz_scheduler.get_tasks()
        next_run = task.next_run_time.astimezone(UTC)
    assert next_run.hour == 3  # 12:00 in Tokyo (UTC+9)
    assert next_run - datetime.now(UTC) <= timedelta(days=1)


async def test_asyncz_options_reach_the_scheduled_task(registry):
    from asyncz.stores.memory import MemoryStore

    store = MemoryStore()
    configure_scheduler(stores={"default": store}, task_defaults={"coalesce": False})

    @scheduler(name="tuned", trigger=IntervalTrigger(hours=1), id="tuned-id", max_instances=4)
    async def tuned() -> None: ...

    async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
        task = asyncz_scheduler.get_task("tuned-id")
        assert (task.name, task.max_instances, task.coalesce) == ("tuned", 4, False)
        assert store.get_task("tuned-id") is not None  # saved in the configured store
