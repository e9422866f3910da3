"""The cost of each resilience middleware on a GET, against the same app without it.

Every app serves GET /hello -> {"hello": "world"} (bench_http's handler); each adds one
middleware, the last all of them composed (``ResilienceMiddleware`` with a rate limit per
client, load shedder, bulkhead, circuit breaker and a timeout). Limits are set so that
nothing is refused: what is measured is the bookkeeping a request pays. In process (the
ASGI app called directly, as in bench_http), 20,000 sequential requests per measurement,
median of 5 rounds interleaved between the apps, access line filtered by level.

With ``--server``, each app also runs on uvicorn (1 worker, httptools + uvloop, pinned to
CPU 0) loaded by ``wrk -t1 -c32`` on CPU 1 (bench_http's set-up): the cost as a client
sees it, with the server's own work per request included.

Run: .venv/bin/python bench/bench_resilience.py [--server]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # uvicorn imports us as bench.*
from bench_http import REQUESTS, measure, quiet_access_log, serve_and_load  # noqa: E402

from ravyn.app import Ravyn
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerMiddleware,
    LoadShedder,
    LoadSheddingMiddleware,
    RateLimiter,
    ResilienceMiddleware,
)
from ravyn.routing import get
from ravyn.settings import RavynSettings

ROUNDS = 5
RATE = "100000000/minute"  # never reached: the limiter's cost, not its refusals


@get("/hello")
async def hello() -> dict:
    return {"hello": "world"}


def app_with(*middleware: object) -> Ravyn:
    quiet = RavynSettings(loop_stall_threshold=None)  # the loop never yields here on purpose
    return Ravyn(
        routes=[hello], middleware=list(middleware), enable_scheduler=False, settings=quiet
    )


def apps() -> dict[str, Ravyn]:
    return {
        "plain (no middleware)": app_with(),
        "LoadSheddingMiddleware": app_with(
            LoadSheddingMiddleware, {"load_shedder": LoadShedder(max_requests=500)}
        ),
        "CircuitBreakerMiddleware": app_with(
            CircuitBreakerMiddleware, {"circuit_breaker": CircuitBreaker(name="api")}
        ),
        "ResilienceMiddleware(rate limit)": app_with(
            ResilienceMiddleware, {"rate_limiter": RateLimiter(name="api"), "rate": RATE}
        ),
        "ResilienceMiddleware(bulkhead)": app_with(
            ResilienceMiddleware, {"bulkhead": Bulkhead(max_concurrent=100)}
        ),
        "ResilienceMiddleware(timeout)": app_with(ResilienceMiddleware, {"timeout": 30.0}),
        "ResilienceMiddleware(all five)": app_with(
            ResilienceMiddleware,
            {
                "rate_limiter": RateLimiter(name="api"),
                "rate": RATE,
                "load_shedder": LoadShedder(max_requests=500),
                "bulkhead": Bulkhead(max_concurrent=100),
                "circuit_breaker": CircuitBreaker(name="backend"),
                "timeout": 30.0,
            },
        ),
    }


async def main() -> None:
    quiet_access_log()
    systems = apps()
    rates: dict[str, list[float]] = {name: [] for name in systems}
    for app in systems.values():  # warm up
        async with app.running():
            await measure(app, "GET", "/hello", 200)
    for _ in range(ROUNDS):
        for name, app in systems.items():
            async with app.running():
                rates[name].append(await measure(app, "GET", "/hello", 200, time.process_time))
    print_table(
        f"In-process ASGI GET, {REQUESTS:,} sequential requests, median of {ROUNDS} rounds, "
        "req/s of CPU time",
        rates,
    )


def server_app() -> Ravyn:
    """The factory uvicorn loads for ``--server``: the app named by RAVYN_BENCH_APP."""
    quiet_access_log()
    return apps()[os.environ["RAVYN_BENCH_APP"]]


def server_table() -> None:
    rates: dict[str, list[float]] = {}
    for _ in range(3):  # rounds interleaved between the apps, as in process
        for name in apps():
            os.environ["RAVYN_BENCH_APP"] = name
            rate = serve_and_load("bench.bench_resilience:server_app", post=False)["GET"]
            rates.setdefault(name, []).append(rate)
    print_table("uvicorn 1 worker on CPU 0, wrk -t1 -c32 on CPU 1, median of 3", rates)


def print_table(title: str, rates: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(values) for name, values in rates.items()}
    baseline = medians["plain (no middleware)"]
    print(f"\n{title}")
    print(f"{'app':<36} {'req/s':>10} {'x plain':>8}")
    for name, rate in medians.items():
        print(f"{name:<36} {rate:>10,.0f} {rate / baseline:>7.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
    if "--server" in sys.argv:
        server_table()
