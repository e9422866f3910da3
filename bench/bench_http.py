"""HTTP hot path, in process: ravyn vs plain Lilya serving the same logic, same run.

Each app has two routes: GET /hello -> {"hello": "world"}; POST /items decodes a typed
JSON body (a msgspec Struct in both apps) and echoes it. The ASGI app is called directly
(no server, no network), 20,000 sequential requests per measurement, median of 5 rounds
interleaved between the apps. Ravyn's access line is measured both filtered out by the log
level and rendered as JSON (to /dev/null), since a production app writes one per request.

Run: .venv/bin/python bench/bench_http.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable

import msgspec
import structlog
from lilya.apps import Lilya
from lilya.requests import Request
from lilya.responses import JSONResponse, Response
from lilya.routing import Path

from ravyn.app import Ravyn
from ravyn.logging import configure_logging
from ravyn.routing import get, post

REQUESTS = 20_000
ROUNDS = 3
BODY = b'{"name": "pen", "price": 1.5, "tags": ["office"]}'


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []


def lilya_app() -> Lilya:
    async def hello() -> JSONResponse:
        return JSONResponse({"hello": "world"})

    async def create_item(request: Request) -> Response:
        item = msgspec.json.decode(await request.body(), type=Item)
        return Response(msgspec.json.encode(item), media_type="application/json", status_code=201)

    return Lilya(routes=[Path("/hello", hello), Path("/items", create_item, methods=["POST"])])


def ravyn_app() -> Ravyn:
    @get("/hello")
    async def hello() -> dict:
        return {"hello": "world"}

    @post("/items")
    async def create_item(item: Item) -> Item:
        return item

    return Ravyn(routes=[hello, create_item], enable_scheduler=False)


def scope_for(method: str, path: str) -> dict:
    headers = [(b"host", b"bench"), (b"user-agent", b"bench")]
    if method == "POST":
        headers += [(b"content-type", b"application/json"), (b"content-length", b"49")]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("bench", 80),
    }


async def measure(app, method: str, path: str, expected_status: int) -> float:
    """Requests per second for ``REQUESTS`` sequential calls of ``app``."""
    template = scope_for(method, path)
    body_message = {"type": "http.request", "body": BODY if method == "POST" else b""}
    statuses = []

    async def receive():
        return body_message

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(REQUESTS):
        await app(dict(template), receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {expected_status}, f"{path}: got statuses {set(statuses)}"
    return REQUESTS / elapsed


def quiet_access_log() -> None:
    configure_logging(json=True, level="WARNING")


def json_access_log_to(sink) -> Callable[[], None]:
    def configure() -> None:
        configure_logging(json=True, level="INFO")
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sink))

    return configure


async def main(devnull) -> None:
    lilya, ravyn = lilya_app(), ravyn_app()
    cases = [("GET", "/hello", 200), ("POST", "/items", 201)]
    systems = [
        ("Lilya 0.29 (msgspec in the handler)", lilya, quiet_access_log),
        ("ravyn (access line filtered by level)", ravyn, quiet_access_log),
        ("ravyn (JSON access line to /dev/null)", ravyn, json_access_log_to(devnull)),
    ]
    results: dict[tuple[str, str], list[float]] = {}
    async with ravyn.running():
        for method, path, status in cases:  # warm up both apps
            for _, app, configure in systems:
                configure()
                await measure(app, method, path, status)
        for _ in range(ROUNDS):
            for method, path, status in cases:
                for name, app, configure in systems:
                    configure()
                    results.setdefault((name, method), []).append(
                        await measure(app, method, path, status)
                    )
    quiet_access_log()
    medians = {key: statistics.median(values) for key, values in results.items()}
    print(f"\nIn-process ASGI, {REQUESTS:,} sequential requests, median of {ROUNDS} rounds")
    print(f"{'system':<40} {'GET req/s':>11} {'POST req/s':>11} {'GET x':>7} {'POST x':>7}")
    baseline = systems[0][0]
    for name, _, _ in systems:
        get_rate, post_rate = medians[(name, "GET")], medians[(name, "POST")]
        get_ratio = get_rate / medians[(baseline, "GET")]
        post_ratio = post_rate / medians[(baseline, "POST")]
        print(
            f"{name:<40} {get_rate:>11,.0f} {post_rate:>11,.0f} "
            f"{get_ratio:>6.2f}x {post_ratio:>6.2f}x"
        )


if __name__ == "__main__":
    with open(os.devnull, "w") as devnull:
        asyncio.run(main(devnull))
