"""Fan-out speed: events/s of emit-and-complete to N trivial async listeners.

Compared, in the same run, with a hand-written ``asyncio.gather`` over the same functions
(the floor a concurrent fan-out must beat), the sequential loop (the ceiling: no
concurrency at all), blinker's ``send_async`` and pyee's ``AsyncIOEventEmitter``.

Then the cost on the request path: requests/s of a POST handler with
``@observable(send=...)`` and 3 trivial listeners against the same handler without it
(ASGI app called in process, rounds interleaved).
Run: ``.venv/bin/python bench/bench_fanout.py`` (about 30 s).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import blinker
from pyee.asyncio import AsyncIOEventEmitter

from ravyn.app import Ravyn
from ravyn.events import EventBus, Registry, observable, use_registry
from ravyn.logging import configure_logging
from ravyn.routing import post

ROUNDS = 5
TARGET_SECONDS = 0.2  # per round and system


def make_listeners(n: int, counter: list[int], suspend: bool) -> list[Callable]:
    def make(index: int) -> Callable:
        if suspend:

            async def listener(payload):
                await asyncio.sleep(0)
                counter[0] += 1

        else:

            async def listener(payload):
                counter[0] += 1

        listener.__qualname__ = f"listener_{index}"  # a listener's name must be unique
        return listener

    return [make(index) for index in range(n)]


async def rate(emit_once: Callable[[], Awaitable[None]]) -> float:
    """Median events/s over ROUNDS timed rounds of ``emit_once``."""
    iterations = 1
    while True:  # calibrate
        start = time.perf_counter()
        for _ in range(iterations):
            await emit_once()
        if time.perf_counter() - start > 0.02:
            break
        iterations *= 2
    per_round = max(1, int(iterations * TARGET_SECONDS / (time.perf_counter() - start)))
    rates = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(per_round):
            await emit_once()
        rates.append(per_round / (time.perf_counter() - start))
    return statistics.median(rates)


async def measure(n: int, suspend: bool) -> dict[str, float]:
    counter = [0]
    listeners = make_listeners(n, counter, suspend)
    payload = {"user_id": 1}

    async def gather() -> None:
        await asyncio.gather(*(listener(payload) for listener in listeners))

    async def sequential() -> None:
        for listener in listeners:
            await listener(payload)

    signal = blinker.Signal()
    for listener in listeners:
        signal.connect(listener, weak=False)

    async def blinker_send() -> None:
        await signal.send_async(payload, _sync_wrapper=None)

    emitter = AsyncIOEventEmitter()
    for listener in listeners:
        emitter.on("user_registered", listener)

    async def pyee_emit() -> None:
        emitter.emit("user_registered", payload)
        await emitter.wait_for_complete()

    with use_registry(Registry()) as registry:
        for listener in listeners:
            observable(listen=["user_registered"])(listener)
    bus = EventBus(registry)

    async def ravyn_emit() -> None:
        await bus.emit("user_registered", payload, wait=True)

    figures = {}
    async with bus:
        for label, emit_once in (
            ("gather", gather),
            ("sequential", sequential),
            ("blinker send_async", blinker_send),
            ("pyee AsyncIOEventEmitter", pyee_emit),
            ("ravyn bus.emit(wait=True)", ravyn_emit),
        ):
            before = counter[0]
            figures[label] = await rate(emit_once)
            assert counter[0] > before, f"{label} ran no listener"
    return figures


def register_app(with_events: bool, counter: list[int]) -> Ravyn:
    """POST /register; ``with_events``: it sends user_registered to 3 trivial listeners."""
    with use_registry(Registry()):

        async def register(email: str, password: str) -> dict:
            return {"registered": True, "email": email, "user_id": 42}

        if with_events:
            register = observable(send=["user_registered"])(register)
            for index in range(3):

                async def listener(user_id: int) -> None:
                    counter[0] += 1

                listener.__qualname__ = f"listener_{index}"
                observable(listen=["user_registered"])(listener)
        return Ravyn(routes=[post("/register")(register)], enable_scheduler=False)


async def requests_per_second(app: Ravyn, requests: int) -> float:
    body = {"type": "http.request", "body": b'{"email": "a@b.c", "password": "x"}'}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/register",
        "raw_path": b"/register",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("bench", 80),
    }
    statuses = []

    async def receive() -> dict:
        return body

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), receive, send)
    elapsed = time.perf_counter() - started
    assert set(statuses) == {201}, statuses[:3]
    return requests / elapsed


async def measure_http() -> tuple[float, float]:
    """Median req/s without and with the observable, rounds interleaved."""
    configure_logging(level="WARNING")  # no access line: measure the events, not the log
    counter = [0]
    plain, observed = register_app(False, counter), register_app(True, counter)
    rates: dict[bool, list[float]] = {False: [], True: []}
    async with plain.events, observed.events:
        await requests_per_second(plain, 500)
        await requests_per_second(observed, 500)
        for _ in range(ROUNDS):
            for with_events, app in ((False, plain), (True, observed)):
                rates[with_events].append(await requests_per_second(app, 5_000))
        await observed.events.idle()
    assert counter[0] == 3 * (500 + ROUNDS * 5_000), "the listeners did not all run"
    return statistics.median(rates[False]), statistics.median(rates[True])


async def main() -> None:
    cases = [(1, False), (10, False), (100, False), (10, True)]
    rows = []
    for n, suspend in cases:
        figures = await measure(n, suspend)
        case = f"N={n}" + (" sleep(0)" if suspend else "")
        print(f"\n{case}: events/s (ratio vs gather)")
        for label, value in figures.items():
            print(f"  {label:28} {value:12,.0f}  {value / figures['gather']:6.2f}x")
        rows.append((case, figures))
    print("\nSummary: ravyn events/s, ratio vs gather (target >= 0.7x at N=10 and N=100)")
    print(f"  {'case':16} {'ravyn':>12} {'gather':>12} {'ratio':>7}")
    for case, figures in rows:
        ours, floor = figures["ravyn bus.emit(wait=True)"], figures["gather"]
        print(f"  {case:16} {ours:12,.0f} {floor:12,.0f} {ours / floor:6.2f}x")

    plain, observed = await measure_http()
    print("\nPOST /register, req/s in process (target >= 0.85x)")
    print(f"  {'without observable':38} {plain:10,.0f}  1.00x")
    print(f"  {'with send=[...] and 3 listeners':38} {observed:10,.0f}  {observed / plain:5.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
