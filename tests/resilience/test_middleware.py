"""The middleware forms through a real uvicorn server: each single-pattern middleware, the
composite one (``setup_resilience``, ``Ravyn(middleware=[...])``, ``add_middleware``)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import pytest
from websockets.sync.client import connect

from ravyn import Ravyn, WebSocket, get, websocket
from ravyn.events import Registry, use_registry
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerMiddleware,
    LoadShedder,
    LoadSheddingMiddleware,
    RateLimiter,
    ResilienceMiddleware,
    setup_resilience,
)
from ravyn.responses import StreamingResponse
from tests.resilience.helpers import Gate, held_at, in_background, wait_until
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)


def make_routes(gate: Gate, calls: list[str]) -> list:
    with use_registry(Registry()):

        @get("/hello")
        async def hello() -> dict:
            calls.append("hello")
            return {"hello": "world"}

        @get("/held")
        async def held() -> dict:
            await gate.wait()
            return {"held": "released"}

        @get("/boom")
        async def boom() -> dict:
            calls.append("boom")
            raise RuntimeError("the backend is down")

        @get("/slow")
        async def slow() -> dict:
            await anyio.sleep(30)
            return {}

        @get("/stream")
        async def stream() -> StreamingResponse:
            async def chunks():
                for number in range(4):
                    await anyio.sleep(0.25)
                    yield f"chunk {number}\n"

            return StreamingResponse(chunks(), media_type="text/plain")

        @websocket("/echo")
        async def echo(socket: WebSocket) -> None:
            await socket.accept()
            await socket.send_text(await socket.receive_text())

    return [hello, held, boom, slow, stream, echo]


def test_load_shedding_middleware_refuses_past_max_requests():
    gate, calls = Gate(), []
    app = Ravyn(routes=make_routes(gate, calls))
    app.add_middleware(LoadSheddingMiddleware, load_shedder=LoadShedder(max_requests=2))
    with serve(app) as address:
        with held_at(gate, f"http://{address}/held"):
            shed = httpx.get(f"http://{address}/hello")
            assert (shed.status_code, shed.json()) == (
                503,
                {"detail": "The server is overloaded: retry later."},
            )
            assert shed.headers["retry-after"] == "1"
            assert calls == []  # refused before the app
        assert httpx.get(f"http://{address}/hello").status_code == 200


def test_circuit_breaker_middleware_counts_5xx_and_fails_fast():
    gate, calls = Gate(), []
    circuit = CircuitBreaker(name="backend", failure_threshold=2, recovery_timeout=60)
    app = Ravyn(
        routes=make_routes(gate, calls),
        middleware=[CircuitBreakerMiddleware, {"circuit_breaker": circuit}],
    )
    with serve(app) as address:
        for _ in range(3):  # a 404 is no failure of the backend
            assert httpx.get(f"http://{address}/nowhere").status_code == 404
        assert [httpx.get(f"http://{address}/boom").status_code for _ in range(2)] == [500, 500]
        assert circuit.state == "open"
        refused = httpx.get(f"http://{address}/hello")
        assert (refused.status_code, refused.json()) == (
            503,
            {"detail": "Service unavailable: circuit 'backend' is open."},
        )
        assert 55 <= int(refused.headers["retry-after"]) <= 60
        assert calls == ["boom", "boom"]


def composite_app(gate: Gate, calls: list[str], **overrides) -> Ravyn:
    app = Ravyn(routes=make_routes(gate, calls))
    patterns = {
        "rate_limiter": RateLimiter(name="api"),
        "rate": "5/hour",
        "key": lambda request: request.headers.get("x-api-key", "anonymous"),
        "load_shedder": LoadShedder(max_requests=100),
        "bulkhead": Bulkhead(max_concurrent=2),
        "circuit_breaker": CircuitBreaker(name="api", failure_threshold=3, recovery_timeout=60),
        "timeout": 0.5,
        **overrides,
    }
    setup_resilience(app, **patterns)
    return app


def test_composite_rate_limit_per_api_key():
    gate, calls = Gate(), []
    app = composite_app(gate, calls)
    with serve(app) as address:

        def statuses(key: str, count: int) -> list[int]:
            url = f"http://{address}/hello"
            return [httpx.get(url, headers={"x-api-key": key}).status_code for _ in range(count)]

        assert statuses("alice", 6) == [200] * 5 + [429]
        assert statuses("bob", 6) == [200] * 5 + [429]
        refused = httpx.get(f"http://{address}/hello", headers={"x-api-key": "alice"})
        assert refused.json() == {"detail": "Too many requests: the limit is 5/hour."}
        assert int(refused.headers["retry-after"]) > 600
        assert len(calls) == 10
    # counted, not emitted one by one: by pattern and name in the app's bus metrics
    assert app.events.metrics.snapshot()["refusals"] == {"rate_limiter": {"api": 3}}


def test_composite_bulkhead_full_is_a_503():
    gate, calls = Gate(), []
    app = composite_app(gate, calls, rate="1000/minute")
    with serve(app) as address, held_at(gate, f"http://{address}/held"):
        full = httpx.get(f"http://{address}/hello")
        assert (full.status_code, full.json()) == (
            503,
            {"detail": "Service busy: bulkhead 'bulkhead' is full."},
        )


def test_composite_timeout_is_a_504_and_opens_the_circuit():
    gate, calls = Gate(), []
    app = composite_app(gate, calls, rate="1000/minute")
    with serve(app) as address:
        timed_out = httpx.get(f"http://{address}/slow")
        assert (timed_out.status_code, timed_out.json()) == (
            504,
            {"detail": "Timed out after 0.5 seconds."},
        )
        assert [httpx.get(f"http://{address}/slow").status_code for _ in range(2)] == [504, 504]
        refused = httpx.get(f"http://{address}/hello")
        assert refused.status_code == 503 and "circuit 'api' is open" in refused.json()["detail"]
        assert calls == []


def test_composite_timeout_does_not_cut_a_started_stream():
    gate, calls = Gate(), []
    with serve(composite_app(gate, calls, rate="1000/minute")) as address:
        response = httpx.get(f"http://{address}/stream", timeout=30)  # 1 s > the 0.5 s timeout
        assert response.status_code == 200
        assert response.text == "".join(f"chunk {n}\n" for n in range(4))


def test_websockets_pass_through_unguarded():
    gate, calls = Gate(), []
    app = composite_app(gate, calls, rate="1/hour")
    with serve(app) as address:
        assert httpx.get(f"http://{address}/hello").status_code == 200
        assert httpx.get(f"http://{address}/hello").status_code == 429
        for _ in range(2):  # the rate limit is for HTTP requests
            with connect(f"ws://{address}/echo") as socket:
                socket.send("hi")
                assert socket.recv(timeout=10) == "hi"


def test_the_composite_middleware_in_the_middleware_list():
    gate, calls = Gate(), []
    app = Ravyn(
        routes=make_routes(gate, calls),
        middleware=[
            ResilienceMiddleware,
            {"rate_limiter": RateLimiter(name="list"), "rate": "2/hour", "timeout": 5.0},
        ],
    )
    with serve(app) as address:
        assert [httpx.get(f"http://{address}/hello").status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]


class CountingBulkhead(Bulkhead):
    """Counts the calls that had to go the slow way (awaiting ``admit``)."""

    awaited = 0

    async def admit(self, key: str = "", *, wait: bool = False) -> None:
        self.awaited += 1
        await super().admit(key, wait=wait)


def test_the_composite_awaits_only_a_pattern_that_must_wait():
    gate, calls = Gate(), []
    bulkhead = CountingBulkhead(max_concurrent=1, max_waiting=1, timeout=30)
    app = Ravyn(routes=make_routes(gate, calls))
    setup_resilience(
        app,
        rate_limiter=RateLimiter("fast"),
        rate="1000/minute",
        load_shedder=LoadShedder(max_requests=10),
        bulkhead=bulkhead,
        circuit_breaker=CircuitBreaker("fast"),
        timeout=10.0,
    )
    with serve(app) as address, ThreadPoolExecutor(2) as pool:
        assert [httpx.get(f"http://{address}/hello").status_code for _ in range(3)] == [200] * 3
        assert bulkhead.awaited == 0  # a free slot: decided at once, no coroutine
        held = in_background(pool, f"http://{address}/held")
        wait_until(lambda: gate.inside == 1, what="one request holding the only slot")
        queued = in_background(pool, f"http://{address}/hello")
        wait_until(lambda: bulkhead.awaited == 1, what="the next request waiting in the queue")
        gate.open()
        assert (held.result().status_code, queued.result().status_code) == (200, 200)
    assert bulkhead.active == 0


async def test_a_request_cancelled_while_waiting_gives_back_what_it_took():
    """A client gone (its task cancelled) while queued at the bulkhead: the load shedder's
    count it took is given back, so it cannot leak towards refusing everyone."""
    shedder, bulkhead = LoadShedder(max_requests=10), Bulkhead(max_concurrent=1, max_waiting=1)
    inside = asyncio.Event()

    async def held(scope, receive, send):
        inside.set()
        await asyncio.sleep(30)

    middleware = ResilienceMiddleware(held, load_shedder=shedder, bulkhead=bulkhead)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}

    async def send(message):
        pass

    holder = asyncio.create_task(middleware(dict(scope), None, send))
    await inside.wait()
    queued = asyncio.create_task(middleware(dict(scope), None, send))
    while not bulkhead.waiters:
        await asyncio.sleep(0.001)
    assert shedder.in_flight == 2
    queued.cancel()
    holder.cancel()
    await asyncio.gather(holder, queued, return_exceptions=True)
    assert (shedder.in_flight, bulkhead.active, len(bulkhead.waiters)) == (0, 0, 0)
