"""What an unhandled error costs the server: time per 500 against a 200 of the same app in
the same run, and the bytes of log it writes, in the console and the JSON mode.

The failing route raises under a dependency that holds a password in a local variable and
with Authorization and Cookie headers on the request; the run also says whether any of them
reached the log. The ASGI app is called through the test client (no network).

Run: .venv/bin/python bench/bench_errors.py
"""

from __future__ import annotations

import sys
import tempfile
import time

from ravyn import Inject, Ravyn, Request, get
from ravyn.logging import configure_logging
from ravyn.testclient import TestClient

REQUESTS = 40
SECRETS = ("hunter2-secret", "Bearer abc", "session=xyz")
HEADERS = {"authorization": "Bearer abc", "cookie": "session=xyz"}


def load_user(request: Request) -> dict:
    password = "hunter2-secret"
    return {"name": "ada", "password": password}


@get("/crash", dependencies={"user": Inject(load_user)})
async def crash(user: dict, request: Request) -> dict:
    raise RuntimeError("the database refused")


@get("/ok")
async def ok() -> dict:
    return {"ok": True}


def per_request(client: TestClient, path: str) -> float:
    start = time.perf_counter()
    for _ in range(REQUESTS):
        client.get(path, headers=HEADERS)
    return (time.perf_counter() - start) / REQUESTS


def measure(json: bool) -> str:
    with tempfile.TemporaryFile("w+") as sink:
        sys.stdout = sys.stderr = sink
        try:
            configure_logging(json=json)
            client = TestClient(Ravyn(routes=[crash, ok]))
            per_request(client, "/crash")  # warm up
            sink.seek(0)
            sink.truncate()
            error_time = per_request(client, "/crash")
            log_bytes = sink.tell() / REQUESTS
            ok_time = per_request(client, "/ok")
            sink.seek(0)
            leaked = [secret for secret in SECRETS if secret in sink.read()]
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    return (
        f"{'json' if json else 'console':8s} 500: {error_time * 1000:6.2f} ms  "
        f"200: {ok_time * 1000:5.2f} ms  ratio {error_time / ok_time:4.1f}  "
        f"log per 500: {log_bytes / 1024:5.1f} kB  secrets in the log: {leaked or 'none'}"
    )


if __name__ == "__main__":
    for json in (False, True):
        print(measure(json))
