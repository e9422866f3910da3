"""Routes guarded by the route decorators, or covered by a resilience middleware (the app's
or an Include's), list the answers those may give (429, 503, 504, with ``Retry-After``
where the refusal carries it) in /openapi.json."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from ravyn import Include, Ravyn, get
from ravyn.middleware import DefineMiddleware
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerMiddleware,
    LoadShedder,
    LoadSheddingMiddleware,
    RateLimiter,
    ResilienceMiddleware,
    RetryPolicy,
    bulkhead_route,
    circuit_breaker_route,
    rate_limit_route,
    retry_route,
    setup_resilience,
    timeout_route,
)
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)

RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}


@get("/critical")
@timeout_route(5.0)
@circuit_breaker_route(CircuitBreaker("payments"))
@bulkhead_route(Bulkhead(max_concurrent=2))
@rate_limit_route(RateLimiter("api"), "10/s")
async def critical() -> dict:
    return {}


@get("/limited")
@retry_route(RetryPolicy())
@rate_limit_route(RateLimiter("api"), "10/s")
async def limited() -> dict:
    return {}


@get("/plain")
async def plain() -> dict:
    return {}


def operations() -> dict:
    app = Ravyn(routes=[critical, limited, plain])
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    validate(document)
    return {path: item["get"]["responses"] for path, item in document["paths"].items()}


def test_each_decorator_lists_its_answers_with_retry_after_where_sent():
    responses = operations()
    critical_responses = responses["/critical"]
    assert set(critical_responses) == {"200", "429", "503", "504"}
    assert critical_responses["429"]["headers"] == {"Retry-After": RETRY_AFTER}
    # the circuit's 503 carries Retry-After, the bulkhead's does not: the header may come
    assert critical_responses["503"]["headers"] == {"Retry-After": RETRY_AFTER}
    assert "circuit breaker" in critical_responses["503"]["description"]
    assert "bulkhead" in critical_responses["503"]["description"]
    assert "headers" not in critical_responses["504"]
    error = {"$ref": "#/components/schemas/HTTPError"}
    for status in ("429", "503", "504"):
        assert critical_responses[status]["content"]["application/json"]["schema"] == error


def test_a_decorator_below_another_is_still_listed_and_plain_routes_are_unchanged():
    responses = operations()
    assert set(responses["/limited"]) == {"200", "429"}
    assert set(responses["/plain"]) == {"200"}


def test_only_the_bulkhead_means_no_retry_after():
    @get("/pool")
    @bulkhead_route(Bulkhead(max_concurrent=1))
    async def pool() -> dict:
        return {}

    app = Ravyn(routes=[pool])
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    assert document["paths"]["/pool"]["get"]["responses"]["503"] == {
        "description": "Too many calls at once (the bulkhead is full).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}},
    }


def document_of(app: Ravyn) -> dict:
    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    validate(document)
    return document


def test_app_wide_resilience_middleware_lists_its_refusals_on_every_operation():
    app = Ravyn(routes=[critical, plain])
    setup_resilience(
        app,
        rate_limiter=RateLimiter("api"),
        rate="100/minute",
        load_shedder=LoadShedder(max_requests=100),
        bulkhead=Bulkhead(max_concurrent=10),
        circuit_breaker=CircuitBreaker("payments"),
        timeout=5.0,
    )
    paths = document_of(app)["paths"]
    for path in ("/critical", "/plain"):
        responses = paths[path]["get"]["responses"]
        assert set(responses) == {"200", "429", "503", "504"}, path
        assert responses["429"]["headers"] == {"Retry-After": RETRY_AFTER}
        assert responses["503"]["headers"] == {"Retry-After": RETRY_AFTER}
        for pattern in ("load shedding", "circuit breaker", "bulkhead"):
            assert pattern in responses["503"]["description"], (path, pattern)
    # /critical's own circuit breaker, bulkhead and timeout are said once, not twice
    description = paths["/critical"]["get"]["responses"]["503"]["description"]
    assert description.count("circuit breaker") == 1
    assert description.count("bulkhead") == 1


def test_single_pattern_middleware_lists_only_its_own_refusal():
    shedding = Ravyn(routes=[plain])
    shedding.add_middleware(LoadSheddingMiddleware, load_shedder=LoadShedder(max_requests=5))
    responses = document_of(shedding)["paths"]["/plain"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
    assert responses["503"]["headers"] == {"Retry-After": RETRY_AFTER}
    assert "overloaded" in responses["503"]["description"]

    breaking = Ravyn(
        routes=[plain],
        middleware=[CircuitBreakerMiddleware, {"circuit_breaker": CircuitBreaker("db")}],
    )
    responses = document_of(breaking)["paths"]["/plain"]["get"]["responses"]
    assert set(responses) == {"200", "503"}
    assert "circuit breaker" in responses["503"]["description"]

    timing = Ravyn(routes=[plain], middleware=[ResilienceMiddleware, {"timeout": 2.0}])
    responses = document_of(timing)["paths"]["/plain"]["get"]["responses"]
    assert set(responses) == {"200", "504"}


def test_middleware_of_an_include_covers_only_the_operations_inside():
    @get("/inside")
    async def inside() -> dict:
        return {}

    guarded = Include(
        "/api",
        routes=[inside],
        middleware=[DefineMiddleware(ResilienceMiddleware, timeout=1.0)],
    )
    paths = document_of(Ravyn(routes=[guarded, plain]))["paths"]
    assert set(paths["/api/inside"]["get"]["responses"]) == {"200", "504"}
    assert set(paths["/plain"]["get"]["responses"]) == {"200"}
