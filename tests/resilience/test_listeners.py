"""The same policy objects on listeners, through a real server: a rate-limited listener
waits its turn, a bulkhead bounds listeners and routes together, an open circuit keeps a
listener from being called, counted in the bus metrics and, with a transport, its event
retried later or dead-lettered, never lost."""

from __future__ import annotations

import asyncio
import time

import httpx
import msgspec
import pytest

from ravyn import Ravyn, RetryPolicy, get, observable, post
from ravyn.events import Registry, use_registry
from ravyn.resilience import Bulkhead, CircuitBreaker, RateLimiter, circuit_breaker_route
from tests.resilience.helpers import Gate, wait_until
from tests.transports.brokers import RedisBroker
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(90)


def test_a_rate_limited_listener_waits_its_turn_and_drops_nothing():
    sent_at: list[float] = []
    with use_registry(Registry()):

        @post("/orders")
        @observable(send=["order.placed"])
        async def place(number: int) -> dict:
            return {"number": number}

        @observable(listen=["order.placed"], rate_limit=(RateLimiter("mailer"), "5/s"))
        async def send_confirmation(number: int) -> None:
            sent_at.append(time.monotonic())

        app = Ravyn(routes=[place])

    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        for number in range(10):
            assert client.post("/orders", json={"number": number}).status_code == 201
        wait_until(lambda: len(sent_at) == 10, 30, "all ten confirmations")
    # a burst of five, then one every 0.2 s: the last at least ~1 s after the first
    assert sent_at[-1] - sent_at[0] >= 0.8
    counters = app.events.metrics.snapshot()["listeners"]
    (name,) = [n for n in counters if n.endswith("send_confirmation")]
    assert (counters[name]["delivered"], counters[name]["failed"]) == (10, 0)


def test_a_bulkhead_bounds_listeners_and_a_route_together():
    database = Bulkhead(max_concurrent=2, name="database")
    gate = Gate()
    inside: list[int] = []
    with use_registry(Registry()):

        @post("/imports")
        @observable(send=["import.requested"])
        async def request_import(batch: int) -> dict:
            return {"batch": batch}

        async def use_database() -> None:
            inside.append(database.active)
            await gate.wait()

        @observable(listen=["import.requested"], bulkhead=database)
        async def import_rows(batch: int) -> None:
            await use_database()

        @observable(listen=["import.requested"], bulkhead=database)
        async def rebuild_index(batch: int) -> None:
            await use_database()

        app = Ravyn(routes=[request_import])

    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        for batch in range(4):
            assert client.post("/imports", json={"batch": batch}).status_code == 201
        wait_until(lambda: gate.inside == 2, what="two listeners in the bulkhead")
        time.sleep(0.2)  # the six others wait their turn: none gets in
        assert gate.inside == 2 and database.active == 2
        gate.open()
        wait_until(lambda: len(inside) == 8 and database.active == 0, 30, "all eight ran")
    assert max(inside) <= 2


def circuit_app(
    circuit: CircuitBreaker, called: list[int], transport: str | None = None, **listener_policy
) -> Ravyn:
    """A route guarded by ``circuit`` (its failures open it) sending events to a listener
    guarded by the same circuit."""
    with use_registry(Registry()):

        @get("/charge")
        @circuit_breaker_route(circuit)
        async def charge(fail: bool = False) -> dict:
            if fail:
                raise ConnectionError("the payment provider is down")
            return {"charged": True}

        @post("/invoices")
        @observable(send=["invoice.created"])
        async def create_invoice(number: int) -> dict:
            return {"number": number}

        @observable(listen=["invoice.created"], circuit_breaker=circuit, **listener_policy)
        async def collect_payment(number: int) -> None:
            called.append(number)

        return Ravyn(routes=[charge, create_invoice], event_transport=transport)


def open_circuit(client: httpx.Client, circuit: CircuitBreaker) -> None:
    while circuit.state != "open":
        assert client.get("/charge", params={"fail": True}).status_code == 500


def test_an_open_circuit_keeps_the_listener_from_being_called_and_is_counted():
    called: list[int] = []
    circuit = CircuitBreaker("payments", failure_threshold=2, recovery_timeout=60)
    app = circuit_app(circuit, called)
    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        open_circuit(client, circuit)
        assert client.get("/charge").status_code == 503  # the route, refused
        for number in range(3):
            assert client.post("/invoices", json={"number": number}).status_code == 201

        def refused_three_times() -> bool:
            listeners = app.events.metrics.snapshot()["listeners"]
            return any(c["refused"] == 3 for n, c in listeners.items() if "collect" in n)

        wait_until(refused_three_times, what="three refused deliveries")
    assert called == []
    snapshot = app.events.metrics.snapshot()
    assert snapshot["refusals"] == {"circuit_breaker": {"payments": 4}}  # 1 route + 3 events
    (counters,) = [c for n, c in snapshot["listeners"].items() if "collect" in n]
    assert (counters["refused"], counters["failed"], counters["delivered"]) == (3, 3, 0)


def test_with_a_transport_an_open_circuit_dead_letters_the_event(redis_server):
    called: list[int] = []
    circuit = CircuitBreaker("ledger", failure_threshold=1, recovery_timeout=60)
    app = circuit_app(circuit, called, transport=redis_server.url)
    broker = RedisBroker(redis_server)
    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        open_circuit(client, circuit)
        assert client.post("/invoices", json={"number": 7}).status_code == 201

        def dead_lettered() -> bool:
            return bool(asyncio.run(broker.dead_letters()))

        wait_until(dead_lettered, 30, "the dead letter")
    [(data, error)] = asyncio.run(broker.dead_letters())
    assert msgspec.json.decode(data)["payload"] == {"number": 7}  # the whole event, kept
    assert "circuit 'ledger' is open" in error
    assert called == []


def test_with_a_transport_a_retry_waits_for_the_half_open_circuit(redis_server):
    called: list[int] = []
    circuit = CircuitBreaker("billing", failure_threshold=1, recovery_timeout=1.5)
    retry = RetryPolicy(max_attempts=3, initial_delay=0.05)
    app = circuit_app(circuit, called, retry=retry, transport=redis_server.url)
    broker = RedisBroker(redis_server)
    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        open_circuit(client, circuit)
        assert client.post("/invoices", json={"number": 8}).status_code == 201
        wait_until(lambda: called == [8], 30, "the delivery once the circuit half-opened")
    assert circuit.state == "closed"
    assert asyncio.run(broker.dead_letters()) == []
