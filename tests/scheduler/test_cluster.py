"""Two app processes, one Redis: each fire time of a job runs once in the cluster."""

from datetime import UTC, datetime, timedelta

import anyio
import pytest
from asyncz.events.constants import TASK_EXECUTED
from asyncz.triggers import DateTrigger
from structlog.testing import capture_logs

from ravyn.contrib.schedulers.asyncz.decorator import scheduler
from ravyn.contrib.schedulers.asyncz.runner import scheduler_lifespan
from ravyn.events.bus import EventBus
from ravyn.events.registry import Registry, use_registry
from ravyn.events.transports.redis import RedisTransport

pytestmark = pytest.mark.timeout(30)


async def test_one_fire_time_runs_once_across_two_processes(redis_url):
    runs: list[str] = []
    fire_at = datetime.now(UTC) + timedelta(milliseconds=500)

    @scheduler(name="cluster_job", trigger=DateTrigger(run_at=fire_at))
    async def cluster_job() -> None:
        runs.append("ran")

    with use_registry(Registry()) as registry, capture_logs() as logs:
        first = EventBus(registry, transport=RedisTransport(redis_url, stream_prefix="sched1"))
        second = EventBus(registry, transport=RedisTransport(redis_url, stream_prefix="sched1"))
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
