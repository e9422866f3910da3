"""One ListenerPolicy, applied the same by every path that runs a listener."""

from __future__ import annotations

import asyncio
from dataclasses import fields
from typing import Any

import pytest

from ravyn.events import Event, EventBus, Listener, ListenerPolicy, Registry, RetryPolicy
from ravyn.events.transports import MemoryTransport
from ravyn.resilience import Bulkhead, CircuitBreaker, RateLimiter
from tests.transports.brokers import wait_until

pytestmark = pytest.mark.timeout(30)

# A value that is a real policy for each field. A new field must be added here: the test
# below then proves `trivial` knows it, so the fast path can never skip it.
SAMPLES: dict[str, Any] = {
    "timeout": 1.0,
    "retry": RetryPolicy(max_attempts=2),
    "max_concurrency": 3,
    "rate_limit": (RateLimiter("sample"), "50/s"),
    "bulkhead": Bulkhead(max_concurrent=2),
    "circuit_breaker": CircuitBreaker("sample"),
}


def test_any_field_set_makes_the_policy_non_trivial() -> None:
    assert {spec.name for spec in fields(ListenerPolicy) if spec.init} == set(SAMPLES)
    assert ListenerPolicy().trivial
    for name, value in SAMPLES.items():
        assert not ListenerPolicy(**{name: value}).trivial, name


def test_keywords_build_the_policy_and_bad_ones_fail_at_declaration() -> None:
    def listener() -> None: ...

    built = Listener(listener, ("a",), retry=2, timeout=1.0)
    assert built.policy == ListenerPolicy(timeout=1.0, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(TypeError):
        Listener(listener, ("a",), retries=2)
    with pytest.raises(ValueError, match="max_concurrency"):
        Listener(listener, ("a",), max_concurrency=0)


def flaky_listener(attempts: list[str]) -> Listener:
    """Fails its first attempt, overruns its timeout on the second, succeeds on the third."""

    async def flaky(event: Event) -> None:
        attempts.append(event.id)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        if len(attempts) == 2:
            await asyncio.sleep(5)

    return Listener(
        flaky, ("order.placed",), timeout=0.2, retry=RetryPolicy(max_attempts=3, initial_delay=0.01)
    )


def listener_counters(bus: EventBus, listener: Listener) -> dict[str, int]:
    return bus.metrics.snapshot()["listeners"].get(listener.name, {})


async def test_in_process_and_transport_delivery_apply_the_same_policy() -> None:
    in_process: list[str] = []
    registry = Registry()
    listener = registry.add_listener(flaky_listener(in_process))
    async with EventBus(registry) as bus:
        await bus.emit("order.placed", {}, wait=True)
    local = listener_counters(bus, listener)

    delivered: list[str] = []
    registry = Registry()
    listener = registry.add_listener(flaky_listener(delivered))
    async with EventBus(registry, transport=MemoryTransport()) as bus:
        await bus.emit("order.placed", {})
        await wait_until(
            lambda: listener_counters(bus, listener).get("delivered"), what="the delivery"
        )
    remote = listener_counters(bus, listener)

    assert len(in_process) == len(delivered) == 3
    assert local == remote
    assert (local["retried"], local["timed_out"], local["delivered"], local["failed"]) == (
        2,
        1,
        1,
        0,
    )
