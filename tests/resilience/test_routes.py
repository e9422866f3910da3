"""Route decorators through a real uvicorn server: what a client gets from each pattern,
the half-open trial, and the patterns stacked."""

from __future__ import annotations

import threading

import anyio
import httpx
import msgspec
import pytest

from ravyn import JSONResponse, Ravyn, Request, get, post
from ravyn.events import Registry, use_registry
from ravyn.exceptions import NotFound
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
    with_fallback_route,
)
from tests.resilience.helpers import Gate, held_at, wait_until
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)

calls: dict[str, int] = {}
FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.05)


def called(name: str) -> int:
    calls[name] = calls.get(name, 0) + 1
    return calls[name]


class Order(msgspec.Struct):
    item: str
    quantity: int


payments = CircuitBreaker("payments", failure_threshold=2, recovery_timeout=4.0)
trial = CircuitBreaker("trial", failure_threshold=1, recovery_timeout=3.0)
reports = Bulkhead(max_concurrent=2, name="reports")
reports_gate = Gate()
slow_cancelled = threading.Event()
stacked_circuit = CircuitBreaker("stacked", failure_threshold=2, recovery_timeout=60.0)

with use_registry(Registry()):

    @get("/retry/error")
    @retry_route(FAST_RETRY)
    async def flaky_until_third() -> dict:
        if called("error") < 3:
            raise ConnectionError("the database blinked")
        return {"attempts": calls["error"]}

    @get("/retry/5xx")
    @retry_route(FAST_RETRY)
    async def unavailable_once() -> JSONResponse:
        if called("5xx") < 2:
            return JSONResponse({"detail": "warming up"}, status_code=503)
        return JSONResponse({"attempts": calls["5xx"]})

    @get("/retry/4xx")
    @retry_route(FAST_RETRY)
    async def missing() -> dict:
        called("4xx")
        raise NotFound("No such thing")

    @get("/retry/always")
    @retry_route(FAST_RETRY)
    def always_failing() -> dict:  # sync: runs in a worker thread, retried all the same
        called("always")
        raise RuntimeError("down for good")

    @get("/payments")
    @circuit_breaker_route(payments)
    async def pay(fail: bool = False, missing: bool = False) -> dict:
        called("payments")
        if missing:
            raise NotFound("No such payment")
        if fail:
            raise RuntimeError("provider down")
        return {"paid": True}

    @get("/trial")
    @circuit_breaker_route(trial)
    async def trial_route(fail: bool = False) -> dict:
        called("trial")
        if fail:
            raise RuntimeError("still down")
        return {"ok": True}

    @get("/limited/{item_id}")
    @rate_limit_route(RateLimiter("per-address"), "3/hour")
    async def limited(item_id: int, request: Request, verbose: bool = False) -> dict:
        return {"item_id": item_id, "verbose": verbose, "path": request.url.path}

    @post("/orders")
    @rate_limit_route(
        RateLimiter("per-key"), "2/hour", key=lambda request: request.headers["x-api-key"]
    )
    async def create_order(order: Order) -> Order:
        return order

    @get("/reports")
    @bulkhead_route(reports)
    async def report() -> dict:
        await reports_gate.wait()
        return {"report": "done"}

    @get("/slow")
    @timeout_route(0.2)
    async def slow(seconds: float) -> dict:
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            slow_cancelled.set()
            raise
        return {"slept": seconds}

    @get("/recommendations")
    @with_fallback_route({"data": [], "status": "degraded"})
    async def recommendations(fail: bool = False) -> dict:
        if fail:
            raise ConnectionError("recommendation service down")
        return {"data": ["book"], "status": "ok"}

    @get("/fallback/refused")
    @with_fallback_route(lambda: {"cached": True})
    @rate_limit_route(RateLimiter("fallback"), "1/hour")
    async def refused_inside() -> dict:
        return {"cached": False}

    @get("/fallback/missing")
    @with_fallback_route({"data": []})
    async def not_a_failure() -> dict:
        raise NotFound("No such user")

    @get("/critical")
    @timeout_route(0.3)  # Outer: time bound
    @circuit_breaker_route(stacked_circuit)  # Next: fail fast
    @bulkhead_route(Bulkhead(max_concurrent=5))  # Next: resource isolation
    @rate_limit_route(RateLimiter("critical"), "4/hour")  # Inner: rate control
    async def critical(sleep: float = 0.0) -> dict:
        called("critical")
        await anyio.sleep(sleep)
        return {"critical": "ok"}

    @get("/reversed/{name}")
    @rate_limit_route(RateLimiter("reversed"), "3/hour")  # Outer this time
    @bulkhead_route(Bulkhead(max_concurrent=5))
    @circuit_breaker_route(CircuitBreaker("reversed"))
    @timeout_route(5.0)
    @retry_route(FAST_RETRY)
    async def reversed_stack(name: str, request: Request) -> dict:
        return {"name": name, "client": request.client.host}

    app = Ravyn(
        routes=[
            flaky_until_third,
            unavailable_once,
            missing,
            always_failing,
            pay,
            trial_route,
            limited,
            create_order,
            report,
            slow,
            recommendations,
            refused_inside,
            not_a_failure,
            critical,
            reversed_stack,
        ]
    )


@pytest.fixture(scope="module")
def base():
    with serve(app) as address:
        yield f"http://{address}"


def test_retry_runs_the_handler_again_after_an_error(base):
    response = httpx.get(f"{base}/retry/error")
    assert (response.status_code, response.json()) == (200, {"attempts": 3})


def test_retry_runs_the_handler_again_after_a_5xx(base):
    response = httpx.get(f"{base}/retry/5xx")
    assert (response.status_code, response.json()) == (200, {"attempts": 2})


def test_retry_never_repeats_a_4xx(base):
    response = httpx.get(f"{base}/retry/4xx")
    assert (response.status_code, response.json()) == (404, {"detail": "No such thing"})
    assert calls["4xx"] == 1


def test_retry_gives_up_after_max_attempts(base):
    response = httpx.get(f"{base}/retry/always")
    assert response.status_code == 500
    assert calls["always"] == 3


def test_circuit_opens_refuses_then_half_opens_after_recovery_timeout(base):
    for _ in range(5):  # a 4xx is the client's doing: it never opens the circuit
        assert httpx.get(f"{base}/payments", params={"missing": True}).status_code == 404
    assert payments.state == "closed"
    for _ in range(2):
        assert httpx.get(f"{base}/payments", params={"fail": True}).status_code == 500
    assert payments.state == "open"
    before = calls["payments"]
    refused = httpx.get(f"{base}/payments")
    assert refused.status_code == 503
    assert refused.json() == {"detail": "Service unavailable: circuit 'payments' is open."}
    assert 1 <= int(refused.headers["retry-after"]) <= 4  # seconds until the half-open trial
    assert calls["payments"] == before  # the handler did not run
    wait_until(lambda: httpx.get(f"{base}/payments").status_code == 200, 20, "the half-open trial")
    assert payments.state == "closed"
    assert calls["payments"] == before + 1  # only the trial ran


def test_a_failed_half_open_trial_opens_the_circuit_again(base):
    assert httpx.get(f"{base}/trial", params={"fail": True}).status_code == 500
    assert httpx.get(f"{base}/trial").status_code == 503
    wait_until(
        lambda: httpx.get(f"{base}/trial", params={"fail": True}).status_code == 500,
        20,
        "the failing trial ran",
    )
    assert trial.state == "open"
    assert httpx.get(f"{base}/trial").status_code == 503


def test_rate_limit_per_client_address_keeps_the_handlers_parameters(base):
    responses = [httpx.get(f"{base}/limited/7", params={"verbose": True}) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert responses[0].json() == {"item_id": 7, "verbose": True, "path": "/limited/7"}
    assert responses[3].json() == {"detail": "Too many requests: the limit is 3/hour."}
    assert 1100 <= int(responses[3].headers["retry-after"]) <= 1200  # one call per 20 min
    assert httpx.get(f"{base}/limited/nope").status_code == 422  # binding still validates


def test_rate_limit_keyed_by_an_api_key_header(base):
    def order(key: str) -> int:
        return httpx.post(
            f"{base}/orders", json={"item": "pen", "quantity": 2}, headers={"x-api-key": key}
        ).status_code

    assert [order("alice") for _ in range(3)] == [201, 201, 429]
    assert [order("bob") for _ in range(3)] == [201, 201, 429]


def test_bulkhead_full_is_a_503_and_frees_its_slots(base):
    with held_at(reports_gate, f"{base}/reports"):
        refused = httpx.get(f"{base}/reports")
        assert (refused.status_code, refused.json()) == (
            503,
            {"detail": "Service busy: bulkhead 'reports' is full."},
        )
    assert httpx.get(f"{base}/reports").status_code == 200
    assert reports.active == 0


def test_timeout_is_a_504_and_cancels_the_handler(base):
    assert httpx.get(f"{base}/slow", params={"seconds": 0}).json() == {"slept": 0}
    response = httpx.get(f"{base}/slow", params={"seconds": 30})
    assert (response.status_code, response.json()) == (
        504,
        {"detail": "Timed out after 0.2 seconds."},
    )
    assert slow_cancelled.wait(10)


def test_fallback_answers_200_when_the_handler_fails(base):
    assert httpx.get(f"{base}/recommendations").json()["status"] == "ok"
    response = httpx.get(f"{base}/recommendations", params={"fail": True})
    assert (response.status_code, response.json()) == (200, {"data": [], "status": "degraded"})


def test_fallback_answers_when_a_pattern_inside_refuses(base):
    assert httpx.get(f"{base}/fallback/refused").json() == {"cached": False}
    response = httpx.get(f"{base}/fallback/refused")  # rate limited inside: the fallback
    assert (response.status_code, response.json()) == (200, {"cached": True})


def test_fallback_lets_a_4xx_through(base):
    assert httpx.get(f"{base}/fallback/missing").status_code == 404


def test_stacked_defense_in_depth(base):
    assert httpx.get(f"{base}/critical").json() == {"critical": "ok"}
    slow = [httpx.get(f"{base}/critical", params={"sleep": 30}) for _ in range(2)]
    assert [r.status_code for r in slow] == [504, 504]  # outer timeout
    assert stacked_circuit.state == "open"  # the timeouts counted as failures inside
    before = calls["critical"]
    refused = httpx.get(f"{base}/critical")
    assert refused.status_code == 503 and "retry-after" in refused.headers
    assert calls["critical"] == before


def test_stacked_in_reverse_order_rate_limit_outermost(base):
    responses = [httpx.get(f"{base}/reversed/ada") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].json() == {"name": "ada", "client": "127.0.0.1"}
