"""Mistakes a new user makes with events, caught where they are made, said in one line."""

import pytest
from structlog.testing import capture_logs

from ravyn.events import EventBus, Registry, observable, trigger_event, use_registry
from ravyn.events.errors import ObservableError


def test_observable_send_above_scheduler_is_refused_at_decoration():
    from ravyn.contrib.schedulers.asyncz.decorator import scheduler

    with use_registry(Registry()), pytest.raises(ObservableError) as refused:

        @observable(send=["cleaned"])
        @scheduler(name="cleanup", cron="0 2 * * *")
        async def cleanup() -> dict:
            return {}

    assert "@observable(send=...) is above @scheduler(...) on" in str(refused.value)
    assert "Write @scheduler(...) above @observable(send=[...])" in str(refused.value)


def test_scheduler_above_observable_send_is_the_order_that_sends():
    from ravyn.contrib.schedulers.asyncz.decorator import scheduler

    with use_registry(Registry()) as registry:

        @scheduler(name="cleanup", cron="0 2 * * *")
        @observable(send=["cleaned"])
        async def cleanup() -> dict:
            return {}

    [job] = registry.jobs
    assert job.func is cleanup  # the sending function is what the job calls
    assert registry.catalogue()["events"][0]["senders"]


async def test_an_event_without_payload_binds_the_listeners_defaults():
    received: list[int] = []
    with use_registry(Registry()) as registry:

        @observable(listen=["recount"])
        async def recount(batch: int = 5) -> None:
            received.append(batch)

    async with EventBus(registry) as bus:
        from ravyn.events.context import bus_context

        with bus_context(bus):
            await trigger_event("recount", wait=True)
    assert received == [5]


async def test_a_field_the_payload_never_has_is_one_line_at_delivery():
    with use_registry(Registry()) as registry:

        @observable(listen=["user_registered"])
        async def welcome(mail: str) -> None: ...

    with capture_logs() as logs:
        async with EventBus(registry) as bus:
            await bus.emit("user_registered", {"email": "ada@example.com"}, wait=True)
    [failure] = [log for log in logs if log["event"] == "listener_failed"]
    assert failure["reason"] == "binding"
    assert "missing required field `mail`" in failure["error"]
    assert "exc_info" not in failure and "exception" not in failure  # no traceback
