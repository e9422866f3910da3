"""A Redis-backed rate limit shared by two server processes: exactly the budget is
allowed across the cluster, every other request is a 429."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
BUDGET = 25


def start_server(redis_url: str, limiter: str, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "RAVYN_TEST_REDIS": redis_url,
        "RAVYN_TEST_LIMITER": limiter,
        "RAVYN_TEST_BUDGET": str(BUDGET),
    }
    command = [sys.executable, "-m", "uvicorn", "tests.resilience.cluster_app:app"]
    command += ["--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"server did not start:\n{log.read_text()}") from None
            time.sleep(0.05)


def test_two_processes_share_one_budget_exactly(redis_url, tmp_path):
    limiter = f"cluster-{uuid.uuid4().hex}"
    servers = [start_server(redis_url, limiter, tmp_path / f"server{n}.log") for n in range(2)]
    try:
        urls = [f"http://127.0.0.1:{port}/quota" for _, port in servers]
        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda n: httpx.get(urls[n % 2], timeout=30), range(80)))
        allowed = [r for r in responses if r.status_code == 200]
        refused = [r for r in responses if r.status_code == 429]
        assert len(allowed) == BUDGET
        assert len(refused) == 80 - BUDGET
        assert {r.json()["pid"] for r in allowed} == {process.pid for process, _ in servers}
        assert all(int(r.headers["retry-after"]) > 0 for r in refused)
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=15)
