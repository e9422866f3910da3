"""Every sample of the resilience guide, as docs_src/resilience/ shows it, served by a real
uvicorn and called over the network."""

from __future__ import annotations

import time

import httpx
import pytest

from ravyn.resilience import ResilienceMiddleware
from tests.resilience.helpers import wait_until
from tests.web.helpers import load_docs_module, serve

pytestmark = pytest.mark.timeout(60)


def served(name: str):
    return serve(load_docs_module(f"docs_src/resilience/{name}.py").app)


def middleware_of(name: str) -> list[type]:
    app = load_docs_module(f"docs_src/resilience/{name}.py").app
    return [definition.middleware for definition in app.user_middleware]


def test_quick_start_stacks_three_middleware_and_a_retried_route():
    assert [cls.__name__ for cls in middleware_of("quick_start")] == [
        "LoadSheddingMiddleware",
        "CircuitBreakerMiddleware",
        "ResilienceMiddleware",
    ]
    with served("quick_start") as address:
        response = httpx.get(f"http://{address}/api/data")
        assert (response.status_code, response.json()) == (200, {"data": "..."})


def allowed_until_refused(client: httpx.Client, path: str) -> tuple[int, float, httpx.Response]:
    """GETs until the first 429: how many were allowed, in how many seconds, and the 429."""
    started, allowed = time.monotonic(), 0
    while (response := client.get(path)).status_code == 200:
        allowed += 1
        assert allowed < 1000, "never refused"
    return allowed, time.monotonic() - started, response


def assert_100_per_minute(allowed: int, seconds: float, refused: httpx.Response) -> None:
    """A burst of 100, then one more every 0.6 s however slow the machine is."""
    assert 100 <= allowed <= 100 + int(seconds / 0.6) + 1
    assert refused.status_code == 429
    assert refused.json() == {"detail": "Too many requests: the limit is 100/minute."}


@pytest.mark.parametrize("sample", ["global_setup", "app_middleware"])
def test_global_protection_and_route_decorators(sample):
    assert middleware_of(sample) == [ResilienceMiddleware]
    with served(sample) as address, httpx.Client(base_url=f"http://{address}") as client:
        # the route's 100/minute refuses first, inside the app's 1000/minute
        assert_100_per_minute(*allowed_until_refused(client, "/api/data"))


def test_when_circuit_breaker():
    with served("when_circuit_breaker") as address:
        assert httpx.get(f"http://{address}/external").json() == {"paid": True}


def test_when_rate_limit():
    with served("when_rate_limit") as address, httpx.Client(base_url=f"http://{address}") as client:
        assert_100_per_minute(*allowed_until_refused(client, "/api/endpoint"))


def test_when_bulkhead():
    with served("when_bulkhead") as address:
        assert httpx.get(f"http://{address}/report").json() == {"rows": []}


def test_when_timeout():
    with served("when_timeout") as address:
        assert httpx.get(f"http://{address}/slow").json() == {"done": True}
        hung = httpx.get(f"http://{address}/slow", params={"seconds": 60}, timeout=30)
        assert (hung.status_code, hung.json()) == (504, {"detail": "Timed out after 5 seconds."})


def test_when_fallback():
    with served("when_fallback") as address:
        response = httpx.get(f"http://{address}/recommendations")
        assert (response.status_code, response.json()) == (200, {"data": [], "status": "degraded"})


def test_defense_in_depth():
    module = load_docs_module("docs_src/resilience/defense_in_depth.py")
    with serve(module.app) as address:
        assert httpx.get(f"http://{address}/critical").json() == {"critical": "ok"}
    assert module.cb.state == "closed" and module.bh.active == 0


def test_global_and_specific():
    assert middleware_of("global_and_specific") == [ResilienceMiddleware]
    with served("global_and_specific") as address:
        assert httpx.get(f"http://{address}/expensive").json() == {"expensive": "done"}


def test_composite_middleware():
    assert middleware_of("composite_middleware") == [ResilienceMiddleware]
    with served("composite_middleware") as address:
        assert httpx.get(f"http://{address}/hello").json() == {"hello": "world"}


def test_listeners():
    module = load_docs_module("docs_src/resilience/listeners.py")
    with serve(module.app) as address:
        response = httpx.post(f"http://{address}/signups", json={"email": "ada@example.com"})
        assert response.status_code == 201
        wait_until(lambda: module.welcomed and module.profiles, what="both listeners")
    assert module.welcomed == module.profiles == ["ada@example.com"]
    assert module.database.active == 0 and module.mail_provider.state == "closed"
