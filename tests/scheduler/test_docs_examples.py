"""The samples of docs/scheduler.md, run as written."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import anyio
import pytest
from asyncz.events.constants import TASK_EXECUTED
from structlog.testing import capture_logs

from ravyn.contrib.schedulers.asyncz.runner import scheduler_lifespan
from ravyn.events.bus import EventBus
from ravyn.events.registry import Registry, use_registry

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def registry():
    with use_registry(Registry()) as fresh:
        yield fresh


async def test_configure_sample(load_docs_src, isolated_jobs, registry):
    sample = load_docs_src("scheduler/configure.py")
    [job] = isolated_jobs
    assert job.name == "weekday_report"
    assert job.options == {"mistrigger_grace_time": 300}
    assert job.lock_ttl == 600

    async with EventBus(registry) as bus, scheduler_lifespan(bus) as asyncz_scheduler:
        assert str(asyncz_scheduler.timezone) == "Europe/Lisbon"
        task = asyncz_scheduler.get_task("weekday_report")
        next_run = task.next_run_time.astimezone(ZoneInfo("Europe/Lisbon"))
        assert (next_run.hour, next_run.minute) == (8, 30)
        assert next_run.strftime("%a") in {"Mon", "Tue", "Wed", "Thu", "Fri"}
        assert next_run > datetime.now(UTC)

        executed = anyio.Event()
        asyncz_scheduler.add_listener(lambda _event: executed.set(), TASK_EXECUTED)
        asyncz_scheduler.run_task("weekday_report")
        with anyio.fail_after(5):
            await executed.wait()
    assert sample.reports == ["report sent"]


async def test_scheduled_events_sample(load_docs_src, isolated_jobs, registry):
    sample = load_docs_src("scheduler/scheduled_events.py")
    jobs = {job.name: job for job in isolated_jobs}
    assert set(jobs) == {"daily_cleanup", "heartbeat"}
    wednesday_noon = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert jobs["daily_cleanup"].trigger.get_next_trigger_time(
        UTC, None, wednesday_noon
    ) == datetime(2024, 5, 2, 2, 0, tzinfo=UTC)
    assert jobs["heartbeat"].options == {"max_instances": 1}

    with capture_logs() as logs:
        async with sample.app.running():
            # The job is an ordinary callable: run it now, its listeners follow.
            assert await sample.run_daily_cleanup() == {"status": "cleanup_started"}
            await sample.app.events.idle()
    started = [entry for entry in logs if entry["event"] == "scheduler_started"]
    assert started[0]["jobs"] == ["daily_cleanup", "heartbeat"]
    assert sorted(sample.cleanup_log) == ["data archived", "logs deleted (cleanup_started)"]
