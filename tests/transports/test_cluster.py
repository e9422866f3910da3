"""Several worker processes on one broker: who runs what, and what survives a SIGKILL."""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from collections.abc import Callable

import pytest

from ravyn.events import EventBus, Registry
from ravyn.events.registry import use_registry

from .brokers import REPO, Broker, Outcomes, Worker, wait_until

pytestmark = [pytest.mark.timeout(60), pytest.mark.server]  # worker processes

FULFIL = "tests.transports.listeners_app:fulfil_order"
CRASHY = "tests.transports.listeners_app:hang_the_first_time"


async def ready_workers(start_worker: Callable[[], Worker], count: int) -> list[Worker]:
    """``count`` worker processes, each subscribed on the broker."""
    workers = [start_worker() for _ in range(count)]
    for worker in workers:
        await worker.ready()
    return workers


async def wait_for_the_cluster(broker: Broker, outcomes: Outcomes, events: int) -> None:
    """Until every durable run, every broadcast run (two processes) and every ack is in."""
    await wait_until(lambda: len(outcomes.lines("durable")) >= events, what="durable runs")
    await wait_until(lambda: len(outcomes.lines("broadcast")) >= 2 * events, what="broadcasts")
    await wait_until(lambda: broker.settled(FULFIL, "order.placed"), what="all acknowledged")


def assert_once_per_cluster_and_once_per_process(
    outcomes: Outcomes, ids: set[str], pids: set[int]
) -> None:
    durable = Counter(event_id for _, event_id in outcomes.lines("durable"))
    assert set(durable) == ids and set(durable.values()) == {1}  # each once in the cluster
    assert {pid for pid, _ in outcomes.lines("durable")} <= pids
    broadcast = Counter(outcomes.lines("broadcast"))
    assert {pid for pid, _ in broadcast} == pids
    assert set(broadcast.values()) == {1}  # each once in each process
    assert {event_id for _, event_id in broadcast} == ids


async def test_durable_once_per_cluster_broadcast_once_per_process(
    broker: Broker, outcomes: Outcomes, start_worker: Callable[[], Worker]
) -> None:
    workers = await ready_workers(start_worker, 2)
    async with EventBus(Registry(), transport=broker.transport()) as bus:
        emitted = [await bus.emit("order.placed", {"order": n}) for n in range(20)]

    await wait_for_the_cluster(broker, outcomes, 20)
    assert_once_per_cluster_and_once_per_process(
        outcomes, {event.id for event in emitted}, {worker.pid for worker in workers}
    )


def load_the_workers_listeners(outcomes: Outcomes, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A fresh copy of listeners_app under its own module name: the listener names (so the
    consumer groups) are those of the workers, and the decorators register anew."""
    monkeypatch.setenv("RAVYN_TEST_OUTCOMES", str(outcomes.path))
    spec = importlib.util.spec_from_file_location(
        "tests.transports.listeners_app", REPO / "tests/transports/listeners_app.py"
    )
    assert spec is not None and spec.loader is not None
    with use_registry(Registry()) as registry:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return registry


async def test_the_emitter_with_the_listener_shares_it_with_the_cluster_and_runs_it_once(
    broker: Broker,
    outcomes: Outcomes,
    start_worker: Callable[[], Worker],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [worker] = await ready_workers(start_worker, 1)
    registry = load_the_workers_listeners(outcomes, monkeypatch)
    assert FULFIL in {listener.name for listener in registry.listeners}

    async with EventBus(registry, transport=broker.transport()) as bus:
        emitted = [await bus.emit("order.placed", {"order": n}) for n in range(20)]
        await wait_for_the_cluster(broker, outcomes, 20)  # the emitter's bus runs meanwhile

    assert_once_per_cluster_and_once_per_process(
        outcomes, {event.id for event in emitted}, {os.getpid(), worker.pid}
    )


async def test_the_event_of_a_killed_consumer_is_redelivered_to_the_survivor(
    broker: Broker, outcomes: Outcomes, start_worker: Callable[[], Worker]
) -> None:
    workers = await ready_workers(start_worker, 2)
    async with EventBus(Registry(), transport=broker.transport()) as bus:
        event = await bus.emit("job.crashy", {"n": 1})
    await wait_until(lambda: outcomes.lines("hanging"), what="a worker to take the event")
    [(hung_pid, hung_id)] = outcomes.lines("hanging")
    assert hung_id == event.id
    victim = next(worker for worker in workers if worker.pid == hung_pid)
    survivor = next(worker for worker in workers if worker.pid != hung_pid)
    victim.kill()

    # The survivor takes it over once the visibility timeout / ack wait (1 s) has passed.
    await wait_until(lambda: outcomes.lines("completed"), timeout=20, what="the redelivery")
    assert outcomes.lines("completed") == [(survivor.pid, event.id)]
    await wait_until(lambda: broker.settled(CRASHY, "job.crashy"), what="the ack")


async def test_sigterm_drains_and_exits_cleanly(
    broker: Broker, outcomes: Outcomes, start_worker: Callable[[], Worker]
) -> None:
    [worker] = await ready_workers(start_worker, 1)
    async with EventBus(Registry(), transport=broker.transport()) as bus:
        await bus.emit("order.placed", {"order": 1})
    await wait_until(lambda: outcomes.lines("durable"), what="the event to run")
    assert worker.terminate() == 0
    log = worker.log.read_text()
    assert "worker_stopping" in log and "worker_stopped" in log
