"""Schedules against a real Redis: once per fire time in a cluster, persistent stores."""

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from asyncz.events.constants import TASK_EXECUTED
from asyncz.triggers import DateTrigger, IntervalTrigger
from structlog.testing import capture_logs

from ravyn.contrib.schedulers.asyncz.decorator import scheduler
from ravyn.contrib.schedulers.asyncz.runner import configure_scheduler, scheduler_lifespan
from ravyn.events.bus import EventBus
from ravyn.events.registry import Registry, active_registry, use_registry
from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport

pytestmark = pytest.mark.timeout(30)


def redis_transport(url: str) -> RedisTransport:
    return RedisTransport(url, stream_prefix="sched1")


def nats_transport(url: str) -> NATSTransport:
    return NATSTransport([url], subject_prefix="sched1")


@pytest.mark.parametrize(
    ("make_transport", "server_url"),
    [(redis_transport, "redis_url"), (nats_transport, "nats_url")],
    ids=["redis", "nats"],
)
async def test_one_fire_time_runs_once_across_two_processes(
    make_transport, server_url, request, debug_logs
):
    url = request.getfixturevalue(server_url)
    runs: list[str] = []
    fire_at = datetime.now(UTC) + timedelta(milliseconds=500)

    @scheduler(name="cluster_job", trigger=DateTrigger(run_at=fire_at), misfire_grace_time=None)
    async def cluster_job() -> None:
        runs.append("ran")

    with use_registry(Registry(parent=active_registry())) as registry, capture_logs() as logs:
        first = EventBus(registry, transport=make_transport(url))
        second = EventBus(registry, transport=make_transport(url))
        finished = 0
        both_finished = anyio.Event()

        def count_finished(_event) -> None:
            nonlocal finished
            finished += 1
            if finished == 2:
                both_finished.set()

        async with (
            first,
            second,
            scheduler_lifespan(first) as one,
            scheduler_lifespan(second) as other,
        ):
            one.add_listener(count_finished, TASK_EXECUTED)
            other.add_listener(count_finished, TASK_EXECUTED)
            with anyio.fail_after(10):
                await both_finished.wait()

    assert runs == ["ran"]
    skipped = [entry for entry in logs if entry["event"] == "scheduled_job_skipped"]
    assert len(skipped) == 1
    assert skipped[0]["fire_time"] == fire_at.isoformat()
    assert skipped[0]["log_level"] == "debug"  # the loser's every fire is not news
    [done] = [entry for entry in logs if entry["event"] == "scheduled_job_done"]
    assert done["log_level"] == "info"  # the run is


async def test_jobs_run_from_a_persistent_asyncz_store(redis_url):
    """Stores pass through: asyncz saves the task by reference and runs it from Redis."""
    from urllib.parse import urlsplit

    from asyncz.stores.redis import RedisStore

    address = urlsplit(redis_url)
    store = RedisStore(
        host=address.hostname,
        port=address.port,
        tasks_key="test.sched.tasks",
        run_times_key="test.sched.run_times",
    )
    configure_scheduler(stores={"default": store})
    ran = anyio.Event()

    @scheduler(name="stored_job", trigger=IntervalTrigger(seconds=0.05))
    async def stored_job() -> None:
        ran.set()

    with use_registry(Registry(parent=active_registry())) as registry:
        async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
            assert store.redis.hexists("test.sched.tasks", "stored_job")
            assert [task.id for task in asyncz_scheduler.get_tasks()] == ["stored_job"]
            with anyio.fail_after(5):
                await ran.wait()
    store.redis.delete("test.sched.tasks", "test.sched.run_times")
