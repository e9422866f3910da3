"""``ravyn worker`` as a user runs it, beside ``ravyn run``, against a real Redis."""

import json

import anyio
import httpx
import pytest

from tests.cli.processes import running
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(120)

LISTENERS = """\
from ravyn import observable


@observable(listen=["ping"])
async def pong() -> None:
    print("pong version 1", flush=True)
"""


def test_the_docs_app_and_worker_meet_on_the_app_prefix(redis_url, tmp_path):
    """docs/transports.md's app (?prefix=myapp in its URL) and docs/worker.md's command with
    --prefix myapp: two processes, one stream."""
    port = free_port()
    app_command = ["run", "docs_src.transports.app:app", "--port", str(port)]
    worker_command = ["worker", "docs_src.transports.listeners", "--transport", redis_url]
    worker_options = ["--prefix", "myapp", "--concurrency", "7", "--grace", "5"]
    with (
        running(*app_command, log=tmp_path / "app.log", REDIS_URL=redis_url) as app,
        running(*worker_command, *worker_options, log=tmp_path / "worker.log") as worker,
    ):
        app.wait_for("Uvicorn running on")  # bound, and the app started
        worker.wait_for("worker_ready")
        response = httpx.post(
            f"http://127.0.0.1:{port}/register", json={"email": "pair@example.com"}
        )
        assert response.status_code == 201
        worker.wait_for("welcome email sent to pair@example.com")
        assert worker.stop() == 0
    [ready] = [json.loads(line) for line in worker.output.splitlines() if "worker_ready" in line]
    assert ready["max_in_flight"] == 7


def test_worker_reload_restarts_on_a_change(redis_url, tmp_path):
    source = tmp_path / "listeners.py"
    source.write_text(LISTENERS)
    command = ["worker", "listeners", "--transport", redis_url, "--reload", "--grace", "1"]
    with running(*command, cwd=tmp_path, log=tmp_path / "worker.log") as worker:
        worker.wait_for("worker_ready")
        source.write_text(LISTENERS.replace("version 1", "version 2"))
        worker.wait_for("worker_ready", count=2)
        assert worker.stop() == 0


async def test_worker_log_level_applies_to_its_lines(redis_url, tmp_path):
    """--log-level warning: the worker's info lines (worker_ready, bus_started) are not written."""
    from ravyn.events import EventBus, Registry
    from ravyn.events.transports.redis import RedisTransport

    command = ["worker", "docs_src.transports.listeners", "--transport", redis_url]
    options = ["--prefix", "quiet", "--log-level", "warning", "--grace", "1"]
    with running(*command, *options, log=tmp_path / "w.log", RAVYN_LOG_JSON="true") as worker:
        transport = RedisTransport(redis_url, stream_prefix="quiet")
        async with EventBus(Registry(), transport=transport) as bus:
            for _ in range(100):  # until the worker's group exists and takes one
                await bus.emit("user_registered", {"email": "quiet@example.com"})
                if "welcome email sent to quiet@example.com" in worker.output:
                    break
                await anyio.sleep(0.1)
        worker.wait_for("welcome email sent to quiet@example.com")
        assert worker.stop() == 0
    assert '"level":"info"' not in worker.output and "worker_ready" not in worker.output
