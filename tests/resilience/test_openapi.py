"""Routes guarded by the route decorators list the answers those may give (429, 503, 504,
with ``Retry-After`` where the refusal carries it) in /openapi.json."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from ravyn import Ravyn, get
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    RateLimiter,
    RetryPolicy,
    bulkhead_route,
    circuit_breaker_route,
    rate_limit_route,
    retry_route,
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
