"""HTTP hot path, in process: ravyn vs plain Lilya serving the same logic, same run.

Each app has two routes: GET /hello -> {"hello": "world"}; POST /items decodes a typed
JSON body (a msgspec Struct in both apps) and echoes it. The ASGI app is called directly
(no server, no network), 20,000 sequential requests per measurement, median of 5 rounds
interleaved between the apps. Ravyn's access line is measured both filtered out by the log
level and rendered as JSON (to /dev/null), since a production app writes one per request.

A second table serves the same two routes as methods of a ``Controller`` against the
function handlers, in alternating turns and by CPU time (a method should cost the same).
A third compares, in the ravyn app, GET /openapi.json (built at its first request, then
the same bytes) with GET /hello: the document must cost no more than a plain GET.
A fourth compares, in the ravyn app, GET /hello with the JSON access line on (to /dev/null)
against the same GET with the line filtered by level, by CPU time in alternating turns: the
line should keep the GET at 0.85x or more.

With ``--server``, the same two apps also run on uvicorn (1 worker, httptools + uvloop,
pinned to CPU 0) loaded by ``wrk -t1 -c32`` (pinned to CPU 1), as in the field's anchors.

``--access`` measures the access line alone: the fourth table and, with ``--server``, the
same comparison on uvicorn in alternating turns, as requests per second of the server
process's CPU time (wall-clock rates swing with whatever else the machine runs).

Run: .venv/bin/python bench/bench_http.py [--server] [--access]
"""

from __future__ import annotations

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
from collections.abc import Callable

import msgspec
from lilya.apps import Lilya
from lilya.requests import Request
from lilya.responses import JSONResponse, Response
from lilya.routing import Path

from ravyn.app import Ravyn
from ravyn.logging import configure_logging
from ravyn.routing import Controller, get, post

REQUESTS = 20_000
ROUNDS = 3
BODY = b'{"name": "pen", "price": 1.5, "tags": ["office"]}'
CASES = [("GET", "/hello", 200), ("POST", "/items", 201)]


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


def ravyn_controller_app() -> Ravyn:
    class ItemApi(Controller):
        @get("/hello")
        async def hello(self) -> dict:
            return {"hello": "world"}

        @post("/items")
        async def create_item(self, item: Item) -> Item:
            return item

    return Ravyn(routes=[ItemApi], enable_scheduler=False)


def ravyn_server_app() -> Ravyn:
    """The factory uvicorn loads for ``--server``: access line filtered as in process."""
    quiet_access_log()
    return ravyn_app()


def ravyn_logging_server_app() -> Ravyn:
    """The same, writing its JSON access line (the server's stderr is /dev/null)."""
    configure_logging(json=True, level="INFO")
    return ravyn_app()


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


async def measure(
    app,
    method: str,
    path: str,
    expected_status: int,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Requests per second for ``REQUESTS`` sequential calls of ``app`` (by ``clock``:
    ``time.process_time`` counts only this process's CPU, steadier on a shared machine)."""
    template = scope_for(method, path)
    body_message = {"type": "http.request", "body": BODY if method == "POST" else b""}
    statuses = []

    async def receive():
        return body_message

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = clock()
    for _ in range(REQUESTS):
        await app(dict(template), receive, send)
    elapsed = clock() - started
    assert set(statuses) == {expected_status}, f"{path}: got statuses {set(statuses)}"
    return REQUESTS / elapsed


def quiet_access_log() -> None:
    configure_logging(json=True, level="WARNING")


def json_access_log() -> None:
    """ravyn's JSON configuration, as production runs it (stderr is /dev/null meanwhile)."""
    configure_logging(json=True, level="INFO")


async def main(devnull) -> None:
    lilya, ravyn = lilya_app(), ravyn_app()
    systems = [
        ("Lilya 0.29 (msgspec in the handler)", lilya, quiet_access_log),
        ("ravyn (access line filtered by level)", ravyn, quiet_access_log),
        ("ravyn (JSON access line to /dev/null)", ravyn, json_access_log),
    ]
    results: dict[tuple[str, str], list[float]] = {}
    # Lines go to sys.stderr as it is when written: /dev/null while measuring.
    with contextlib.redirect_stderr(devnull):
        async with ravyn.running():
            for method, path, status in CASES:  # warm up both apps
                for _, app, configure in systems:
                    configure()
                    await measure(app, method, path, status)
            for _ in range(ROUNDS):
                for method, path, status in CASES:
                    for name, app, configure in systems:
                        configure()
                        results.setdefault((name, method), []).append(
                            await measure(app, method, path, status)
                        )
            quiet_access_log()
            print_table(
                f"In-process ASGI, {REQUESTS:,} sequential requests, median of {ROUNDS} rounds",
                {
                    name: {
                        method: statistics.median(results[(name, method)])
                        for method in ("GET", "POST")
                    }
                    for name, _, _ in systems
                },
            )
            await controller_methods(ravyn)
            await documents(ravyn)
            await access_line(ravyn)


async def controller_methods(ravyn: Ravyn) -> None:
    """The same routes as function handlers and as controller methods, in turns (the
    first of each round alternates), by CPU time: two rows that should be equal."""
    controller = ravyn_controller_app()
    systems = {"ravyn function handlers": ravyn, "ravyn controller methods": controller}
    results: dict[tuple[str, str], list[float]] = {}
    async with controller.running():
        for turn in range(2 * ROUNDS):
            order = list(systems.items())[:: 1 if turn % 2 else -1]
            for method, path, status in CASES:
                for name, app in order:
                    rate = await measure(app, method, path, status, clock=time.process_time)
                    results.setdefault((name, method), []).append(rate)
    print_table(
        f"Controller methods against function handlers, by CPU time, median of {2 * ROUNDS}",
        {
            name: {method: statistics.median(results[(name, method)]) for method in ("GET", "POST")}
            for name in systems
        },
    )


async def documents(ravyn: Ravyn) -> None:
    """GET /openapi.json against GET /hello, after the document's first request; rates per
    second of process CPU time (steadier than wall time on a shared machine)."""
    await measure(ravyn, "GET", "/openapi.json", 200)  # the first request builds it
    rates: dict[str, list[float]] = {"GET /hello": [], "GET /openapi.json": []}
    for _ in range(ROUNDS):
        for path in ("/hello", "/openapi.json"):
            started = time.process_time()
            await measure(ravyn, "GET", path, 200)
            rates[f"GET {path}"].append(REQUESTS / (time.process_time() - started))
    print_ratios(
        f"ravyn documents, {REQUESTS:,} sequential requests, median of {ROUNDS} rounds (CPU time)",
        rates,
    )


async def access_line(ravyn: Ravyn) -> None:
    """GET /hello with the JSON access line written against the line filtered by level, in
    turns (the first of each turn alternates), rates per second of process CPU time."""
    systems = {
        "GET /hello, access line filtered": quiet_access_log,
        "GET /hello, JSON access line on": json_access_log,
    }
    rates: dict[str, list[float]] = {name: [] for name in systems}
    for turn in range(2 * ROUNDS):
        for name, configure in list(systems.items())[:: 1 if turn % 2 else -1]:
            configure()
            rates[name].append(await measure(ravyn, "GET", "/hello", 200, clock=time.process_time))
    quiet_access_log()
    print_ratios(
        f"ravyn access line, {REQUESTS:,} sequential requests, median of {2 * ROUNDS} (CPU time)",
        rates,
    )


def print_ratios(title: str, rates: dict[str, list[float]]) -> None:
    """One row per measurement, its median req/s and the ratio to the first row's median."""
    medians = {name: statistics.median(values) for name, values in rates.items()}
    baseline = next(iter(medians.values()))
    print(f"\n{title}")
    for name, rate in medians.items():
        print(f"{name:<40} {rate:>11,.0f} req/s {rate / baseline:>6.2f}x")


def print_table(title: str, rates: dict[str, dict[str, float]]) -> None:
    """One row per system, req/s and the ratio to the first row (the baseline)."""
    baseline = next(iter(rates.values()))
    print(f"\n{title}")
    print(f"{'system':<40} {'GET req/s':>11} {'POST req/s':>11} {'GET x':>7} {'POST x':>7}")
    for name, rate in rates.items():
        print(
            f"{name:<40} {rate['GET']:>11,.0f} {rate['POST']:>11,.0f} "
            f"{rate['GET'] / baseline['GET']:>6.2f}x {rate['POST'] / baseline['POST']:>6.2f}x"
        )


SERVER_SECONDS = 4
WRK_POST_SCRIPT = f"""
wrk.method = "POST"
wrk.body = '{BODY.decode()}'
wrk.headers["Content-Type"] = "application/json"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk_rate(url: str, script: str | None, server_pid: int, per_cpu_second: bool) -> float:
    """req/s by wall time, or per second of the server process's CPU time."""
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{SERVER_SECONDS}s"]
    if script:
        command += ["-s", script]
    cpu_before = process_cpu_seconds(server_pid)
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw error responses from {url}:\n{output}")
    if per_cpu_second:
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        return requests / (process_cpu_seconds(server_pid) - cpu_before)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_and_load(
    factory: str, post: bool = True, per_cpu_second: bool = False
) -> dict[str, float]:
    """req/s of ``factory``'s app on uvicorn: GET /hello, and POST /items unless not ``post``
    (per second of the server's CPU time if ``per_cpu_second``)."""
    port = free_port()
    server = subprocess.Popen(
        [
            "taskset",
            "-c",
            "0",
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        deadline = time.monotonic() + 15
        while True:  # the server process needs a moment to import and listen
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"{factory} did not start") from None
                time.sleep(0.05)
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(WRK_POST_SCRIPT)
            script.flush()
            url = f"http://127.0.0.1:{port}"
            rates = {"GET": wrk_rate(f"{url}/hello", None, server.pid, per_cpu_second)}
            if post:
                rates["POST"] = wrk_rate(f"{url}/items", script.name, server.pid, per_cpu_second)
            return rates
    finally:
        server.terminate()
        server.wait(timeout=10)


def server_table() -> None:
    if not (shutil.which("wrk") and shutil.which("taskset")):
        print("\n--server needs wrk and taskset (apt-get install -y wrk util-linux)")
        return
    rates = {
        "Lilya 0.29 (msgspec in the handler)": serve_and_load("bench.bench_http:lilya_app"),
        "ravyn (access line filtered by level)": serve_and_load(
            "bench.bench_http:ravyn_server_app"
        ),
        "ravyn (JSON access line to /dev/null)": serve_and_load(
            "bench.bench_http:ravyn_logging_server_app"
        ),
    }
    print_table(
        f"uvicorn 1 worker (httptools, uvloop) on CPU 0, wrk -t1 -c32 -d{SERVER_SECONDS}s on CPU 1",
        rates,
    )


def server_access_table() -> None:
    """GET /hello on uvicorn with the JSON access line on against the line filtered, in
    turns (the first of each turn alternates), per second of the server's CPU time."""
    factories = {
        "GET /hello, access line filtered": "bench.bench_http:ravyn_server_app",
        "GET /hello, JSON access line on": "bench.bench_http:ravyn_logging_server_app",
    }
    rates: dict[str, list[float]] = {name: [] for name in factories}
    for turn in range(2 * ROUNDS):
        for name, factory in list(factories.items())[:: 1 if turn % 2 else -1]:
            rates[name].append(serve_and_load(factory, post=False, per_cpu_second=True)["GET"])
    print_ratios(
        f"ravyn access line on uvicorn (server stderr /dev/null), wrk -t1 -c32 "
        f"-d{SERVER_SECONDS}s, median of {2 * ROUNDS} (server CPU time)",
        rates,
    )


async def access_line_only(devnull) -> None:
    with contextlib.redirect_stderr(devnull):
        ravyn = ravyn_app()
        async with ravyn.running():
            await measure(ravyn, "GET", "/hello", 200)  # warm up
            await access_line(ravyn)


if __name__ == "__main__":
    # Line-buffered, as a process's stderr is: what a server's access lines are written to.
    with open(os.devnull, "w", buffering=1) as devnull:
        asyncio.run(access_line_only(devnull) if "--access" in sys.argv else main(devnull))
    if "--server" in sys.argv:
        if "--access" in sys.argv:
            server_access_table()
        else:
            server_table()
