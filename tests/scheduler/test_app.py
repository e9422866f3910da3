"""The scheduler inside a Ravyn app: started by its lifespan, unless turned off."""

import anyio
import pytest
from asyncz.triggers import IntervalTrigger
from structlog.testing import capture_logs

from ravyn.app import Ravyn
from ravyn.contrib.schedulers.asyncz.decorator import scheduler
from ravyn.events.decorators import observable
from ravyn.events.registry import Registry, use_registry

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(autouse=True)
def registry():
    with use_registry(Registry()) as fresh:
        yield fresh


async def test_jobs_start_with_the_app_and_emit_on_its_bus():
    received = anyio.Event()

    @scheduler(name="pulse", trigger=IntervalTrigger(seconds=0.05))
    @observable(send=["pulse"])
    async def pulse() -> dict:
        return {"ok": True}

    @observable(listen=["pulse"])
    async def on_pulse(ok: bool) -> None:
        assert ok
        received.set()

    app = Ravyn()
    with capture_logs() as logs:
        async with app.running():
            with anyio.fail_after(5):
                await received.wait()
    events = [entry["event"] for entry in logs]
    assert events.index("scheduler_started") < events.index("scheduler_stopped")
    assert events.index("scheduler_stopped") < events.index("bus_stopped")


async def test_enable_scheduler_false_leaves_jobs_off():
    @scheduler(name="never", trigger=IntervalTrigger(seconds=0.05))
    async def never() -> None:
        raise AssertionError("the scheduler is off")

    app = Ravyn(enable_scheduler=False)
    with capture_logs() as logs:
        async with app.running():
            pass
    assert "scheduler_started" not in [entry["event"] for entry in logs]
