"""A circuit's changes of state are events on the app's bus, through a real server."""

from __future__ import annotations

import httpx
import pytest

from ravyn import Event, Ravyn, get, observable
from ravyn.events import Registry, use_registry
from ravyn.resilience import CircuitBreaker, circuit_breaker_route
from tests.resilience.helpers import wait_until
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)


def test_opened_half_opened_closed_reach_a_listener():
    seen: list[tuple[str, dict]] = []
    circuit = CircuitBreaker("inventory", failure_threshold=2, recovery_timeout=2.0)
    with use_registry(Registry()):

        @observable(listen=["resilience.circuit.*"])
        async def watch(event: Event) -> None:
            seen.append((event.name, event.payload))

        @get("/stock")
        @circuit_breaker_route(circuit)
        async def stock(fail: bool = False) -> dict:
            if fail:
                raise ConnectionError("inventory service down")
            return {"in_stock": 3}

        app = Ravyn(routes=[stock])

    with serve(app) as address:
        url = f"http://{address}/stock"
        assert [httpx.get(url, params={"fail": True}).status_code for _ in range(2)] == [500, 500]
        wait_until(lambda: len(seen) == 1, what="the opened event")
        assert seen == [("resilience.circuit.opened", {"name": "inventory", "failures": 2})]
        wait_until(lambda: httpx.get(url).status_code == 200, 20, "the half-open trial")
        wait_until(lambda: len(seen) == 3, what="half_opened and closed")
    assert seen[1:] == [
        ("resilience.circuit.half_opened", {"name": "inventory", "failures": 2}),
        ("resilience.circuit.closed", {"name": "inventory", "failures": 0}),
    ]
