"""Fan-out speed: events/s of emit-and-complete to N trivial async listeners.

Compared, in the same run, with a hand-written ``asyncio.gather`` over the same functions
(the floor a concurrent fan-out must beat), the sequential loop (the ceiling: no
concurrency at all), blinker's ``send_async`` and pyee's ``AsyncIOEventEmitter``.

Then the cost on the request path: requests/s of a POST handler with
``@observable(send=...)`` and 3 trivial listeners against the same handler without it,
twice: the ASGI app called in process by 1 and by 16 concurrent clients (the framework's
own cost, nothing else), and through a real server (one uvicorn worker per app, loaded by
``wrk``: what users see). After the response, routes emit with ``defer=True``.
Rounds are interleaved so that a busy machine slows both sides alike.
Run: ``.venv/bin/python bench/bench_fanout.py`` (about 70 s; the server part needs ``wrk``:
``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable

import blinker
import httpx
import uvicorn
from pyee.asyncio import AsyncIOEventEmitter

from ravyn.app import Ravyn
from ravyn.events import EventBus, Registry, observable, use_registry
from ravyn.logging import configure_logging
from ravyn.routing import get, post

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


VARIANTS = {
    "plain": "without observable",
    "observed": "with send=[...] and 3 listeners",
}


def register_app(variant: str, counter: list[int]) -> Ravyn:
    """POST /register; unless "plain", it sends user_registered to 3 trivial listeners.
    GET /listened tells how many listener calls ran (to check that the work was done)."""
    with use_registry(Registry()):

        async def listened() -> int:
            return counter[0]

        async def register(email: str, password: str) -> dict:
            return {"registered": True, "email": email, "user_id": 42}

        if variant != "plain":
            register = observable(send=["user_registered"])(register)
            for index in range(3):

                async def listener(user_id: int) -> None:
                    counter[0] += 1

                listener.__qualname__ = f"listener_{index}"
                observable(listen=["user_registered"])(listener)
        routes = [post("/register")(register), get("/listened")(listened)]
        app = Ravyn(routes=routes, enable_scheduler=False)
    return app


async def requests_per_second(app: Ravyn, requests: int, clients: int = 1) -> tuple[float, float]:
    """Requests per second and per CPU second of ``requests`` POSTs from ``clients``
    concurrent clients, each request followed by one turn of the loop (a server turns it at
    least once per request; deferred listeners start there), until the bus is idle: the
    listeners' work is in the time. In process, all CPU time is the framework's: other
    processes on the machine hardly change it, while they make wall-clock rates noisy."""
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

    async def client() -> None:
        for _ in range(requests // clients):
            await app(dict(scope), receive, send)
            await asyncio.sleep(0)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    await app.events.idle()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert set(statuses) == {201}, statuses[:3]
    done = requests // clients * clients
    return done / elapsed, done / cpu


async def measure_http(clients: int) -> tuple[dict[str, float], dict[str, float]]:
    """Best req/s and best req per CPU second of each variant, called in process by
    ``clients`` concurrent clients, rounds interleaved (best round: a busy machine only
    ever slows a round down)."""
    configure_logging(level="WARNING")  # no access line: measure the events, not the log
    counters = {variant: [0] for variant in VARIANTS}
    apps = {variant: register_app(variant, counters[variant]) for variant in VARIANTS}
    rates: dict[str, list[tuple[float, float]]] = {variant: [] for variant in VARIANTS}
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.events)
        for app in apps.values():
            await requests_per_second(app, 500)
        for _ in range(ROUNDS):
            for variant, app in apps.items():
                rates[variant].append(await requests_per_second(app, 4_000, clients))
    for variant in rates.keys() - {"plain"}:
        assert counters[variant][0] == 3 * (500 + ROUNDS * 4_000), f"{variant}: listeners missed"
    best_wall = {variant: max(wall for wall, _ in figures) for variant, figures in rates.items()}
    best_cpu = {variant: max(cpu for _, cpu in figures) for variant, figures in rates.items()}
    return best_wall, best_cpu


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"email": "a@b.c", "password": "x"}'
wrk.headers["Content-Type"] = "application/json"
"""
SERVER_ROUNDS = 4
SERVER_SECONDS = 2


def serve(variant: str, port: int) -> None:
    """The server process: one uvicorn worker (uvloop + httptools when installed)."""
    configure_logging(level="WARNING")
    app = register_app(variant, [0])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(variant: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, __file__, "--serve", variant, "--port", str(port)]
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{url}/listened", timeout=1).raise_for_status()
            return process, url
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"the bench server on port {port} did not start") from None
            time.sleep(0.1)


def wrk(url: str, script: str) -> tuple[float, int]:
    """Requests/s and completed requests of one ``wrk`` run (16 connections, 1 thread)."""
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{SERVER_SECONDS}s", "-s", script, f"{url}/register"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Non-2xx" not in out and "Socket errors" not in out, out
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])
    return rate, int(re.search(r"(\d+) requests in", out)[1])


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) the server process has used so far (Linux /proc)."""
    with open(f"/proc/{process.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_server() -> tuple[dict[str, float], dict[str, float]] | None:
    """Through uvicorn, per variant: the best req/s of its rounds, and requests per second
    of server CPU time (all rounds: other processes' load hardly changes it, while it
    makes wall-clock rates noisy). Rounds interleaved, in alternating order."""
    if shutil.which("wrk") is None:
        print("\n(wrk not found: apt-get install wrk to measure through a real server)")
        return None
    servers = {variant: start_server(variant) for variant in VARIANTS}
    rates: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    completed = dict.fromkeys(VARIANTS, 0)
    cpu = dict.fromkeys(VARIANTS, 0.0)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(WRK_SCRIPT)
            script.flush()
            for _, url in servers.values():  # warm up
                wrk(url, script.name)
            order = list(servers)
            for _ in range(SERVER_ROUNDS):
                for variant in order:
                    process, url = servers[variant]
                    cpu_before = server_cpu_seconds(process)
                    rate, count = wrk(url, script.name)
                    cpu[variant] += server_cpu_seconds(process) - cpu_before
                    rates[variant].append(rate)
                    completed[variant] += count
                order.reverse()
        for variant in rates.keys() - {"plain"}:
            listened = httpx.get(f"{servers[variant][1]}/listened").json()
            # requests cut off when wrk stops may still have run their listeners
            expected = 3 * completed[variant]
            assert listened >= expected, f"{variant}: {listened} listener calls, {expected}+"
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    best = {variant: max(figures) for variant, figures in rates.items()}
    per_cpu_second = {variant: completed[variant] / cpu[variant] for variant in VARIANTS}
    return best, per_cpu_second


def print_ratios(title: str, rates: dict[str, float], target: str = "") -> None:
    print(f"\n{title}{target}")
    for variant, label in VARIANTS.items():
        if variant not in rates:
            continue
        ratio = rates[variant] / rates["plain"]
        print(f"  {label:42} {rates[variant]:10,.0f}  {ratio:5.2f}x")


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

    target = " (target >= 0.75x)"
    for clients in (1, 16):
        wall, cpu = await measure_http(clients)
        print_ratios(f"POST /register in process, {clients} client(s), best req/s", wall, target)
        print_ratios(f"POST /register in process, {clients} client(s), req per CPU s", cpu, target)
    server = measure_server()
    if server is not None:
        print_ratios("POST /register through uvicorn + wrk, best req/s", server[0])
        print_ratios("POST /register through uvicorn + wrk, requests per server CPU s", server[1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=VARIANTS, help="run one bench server (internal)")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
    else:
        asyncio.run(main())
