"""`app.scheduler` while the app runs, and the registrations each app keeps to itself."""

import uuid
from datetime import UTC, datetime, timedelta

import anyio
import pytest
from asyncz.triggers import DateTrigger, IntervalTrigger
from structlog.testing import capture_logs

from ravyn import Ravyn
from ravyn.contrib.schedulers.asyncz import scheduler
from ravyn.core.caches import cache
from ravyn.events import Listener, bus_context, observable
from ravyn.testclient import TestClient
from tests.transports.brokers import wait_until

pytestmark = pytest.mark.timeout(30)


def test_the_control_sample_lists_adds_pauses_runs_resumes_and_removes(load_docs_src):
    sample = load_docs_src("scheduler/control.py")
    with TestClient(sample.app) as client:
        assert client.get("/jobs").json() == [{"name": "nightly_report", "paused": False}]
        assert client.post("/jobs/flash-sale").json() == {"added": "flash_sale"}
        client.post("/jobs/nightly_report/pause")
        assert client.get("/jobs").json() == [
            {"name": "nightly_report", "paused": True},
            {"name": "flash_sale", "paused": False},
        ]
        [nightly] = [job for job in sample.app.scheduler.jobs() if job.paused]
        assert nightly.next_run_time is None  # paused in asyncz too
        client.post("/jobs/nightly_report/run")
        assert sample.reports == ["nightly"]
        client.post("/jobs/nightly_report/resume")
        client.post("/jobs/flash_sale/remove")
        assert client.get("/jobs").json() == [{"name": "nightly_report", "paused": False}]
        [nightly] = sample.app.scheduler.jobs()
        assert nightly.next_run_time is not None
    with pytest.raises(KeyError, match="no scheduled job named 'nope'"):
        sample.app.scheduler.pause("nope")


async def test_a_paused_job_sends_no_events_until_resumed():
    ticks: list[int] = []

    @scheduler(name="tick", trigger=IntervalTrigger(seconds=0.05))
    @observable(send=["ticked"])
    async def tick() -> dict:
        return {}

    @observable(listen=["ticked"])
    async def on_tick() -> None:
        ticks.append(1)

    app = Ravyn()
    async with app.running():
        await wait_until(lambda: ticks, what="a first tick")
        app.scheduler.pause("tick")
        await app.events.idle()
        paused_at = len(ticks)
        await anyio.sleep(0.5)  # ten intervals: a paused job would have fired meanwhile
        assert len(ticks) == paused_at
        app.scheduler.resume("tick")
        await wait_until(lambda: len(ticks) > paused_at, what="a tick after resume")


async def test_a_job_added_at_runtime_fires_once_per_cluster(debug_logs):
    runs: list[str] = []

    async def sweep() -> None:
        runs.append("ran")

    transport = f"memory://{uuid.uuid4().hex}"  # one broker: two processes of a cluster
    first, second = Ravyn(event_transport=transport), Ravyn(event_transport=transport)
    with capture_logs() as logs:
        async with first.running(), second.running():
            # After the start, however slow a loaded machine made it: a time already
            # past would be a misfire, not a run.
            fire_at = datetime.now(UTC) + timedelta(milliseconds=500)
            for app in (first, second):
                app.scheduler.add(
                    sweep, name="sweep", trigger=DateTrigger(run_at=fire_at), lock_ttl=5
                )

            def both_handled() -> bool:
                skipped = [log for log in logs if log["event"] == "scheduled_job_skipped"]
                return bool(runs) and bool(skipped)

            await wait_until(both_handled, what="one run and one skip")
    assert runs == ["ran"]
    [skipped] = [log for log in logs if log["event"] == "scheduled_job_skipped"]
    assert skipped["fire_time"] == fire_at.isoformat()


async def test_two_apps_share_no_listeners_jobs_or_caches():
    @observable(listen=["declared"])
    async def declared_in_a_module() -> None: ...

    first, second = Ravyn(), Ravyn()
    assert first.events.registry is not second.events.registry
    for app in (first, second):  # both see what their modules declared
        assert [listener.name for listener in app.events.registry.listeners] == [
            Listener(declared_in_a_module, ()).name
        ]

    ran: list[str] = []

    async def on_order() -> None:
        ran.append("first")

    first.events.registry.add_listener(Listener(on_order, ("order",)))
    first.scheduler.add(on_order, name="only_first", trigger=IntervalTrigger(hours=1))
    await second.events.emit("order", {})
    assert ran == [] and second.scheduler.jobs() == []
    await first.events.emit("order", {})
    assert ran == ["first"] and [job.name for job in first.scheduler.jobs()] == ["only_first"]

    computed: list[str] = []

    @cache()
    async def answer() -> int:
        computed.append("computed")
        return 42

    for app in (first, second, first):
        with bus_context(app.events):
            assert await answer() == 42
    assert computed == ["computed", "computed"]  # once per app
