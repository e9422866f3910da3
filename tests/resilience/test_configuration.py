"""A configuration that can never work fails when it is written (or when the app starts),
with one line saying what to write instead."""

from __future__ import annotations

import pytest

from ravyn import Ravyn, get
from ravyn.exceptions import ImproperlyConfigured
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    LoadShedder,
    RateLimiter,
    ResilienceMiddleware,
    RetryPolicy,
    rate_limit_route,
    setup_resilience,
    timeout_route,
)
from ravyn.resilience.rates import parse_rate
from ravyn.testclient import TestClient


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [("100/minute", 100, 60), ("10/s", 10, 1), ("1000/hour", 1000, 3600), ("5 / Day", 5, 86400)],
)
def test_rates_as_users_write_them(text, limit, period):
    rate = parse_rate(text)
    assert (rate.limit, rate.period, rate.interval) == (limit, period, period / limit)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: parse_rate("100/fortnight"), "Rate '100/fortnight' is not understood"),
        (lambda: parse_rate("-5/minute"), "allows nothing"),
        (lambda: parse_rate("0/second"), "allows nothing"),
        (lambda: parse_rate("lots"), "write N/second, N/minute"),
        (lambda: CircuitBreaker("api", failure_threshold=-1), "failure_threshold"),
        (lambda: CircuitBreaker("api", recovery_timeout=0), "recovery_timeout"),
        (lambda: RetryPolicy(max_attempts=0), "max_attempts"),
        (lambda: RetryPolicy(initial_delay=-0.1), "initial_delay"),
        (lambda: Bulkhead(max_concurrent=-3), "max_concurrent"),
        (lambda: Bulkhead(max_concurrent=2, max_waiting=-1), "max_waiting"),
        (lambda: LoadShedder(max_requests=0), "max_requests"),
        (lambda: LoadShedder(max_requests=1.5), "max_requests"),
        (lambda: timeout_route(-1), "timeout"),
        (lambda: rate_limit_route(RateLimiter("api"), "100/fortnight"), "100/fortnight"),
        (lambda: ResilienceMiddleware(None, rate="10/s"), "rate_limiter= and rate= together"),
        (lambda: setup_resilience(Ravyn(), rate_limiter=RateLimiter(), rate="1/eon"), "1/eon"),
    ],
)
def test_bad_configuration_fails_at_once_in_one_line(make, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        make()
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_bad_middleware_rate_fails_at_startup_not_on_the_first_request():
    @get("/")
    async def home() -> dict:
        return {}

    app = Ravyn(routes=[home])
    app.add_middleware(ResilienceMiddleware, rate_limiter=RateLimiter("api"), rate="9/fortnight")
    with pytest.raises(ImproperlyConfigured, match="9/fortnight"), TestClient(app):
        pass
