"""Secrets never reach the logs: real server processes (uvicorn, redis-server, nats-server)
with secrets planted everywhere (a broker URL's password, a body field, an Authorization
header, a cookie, an event payload field), driven through a success, a 500, a failing
listener and a dead broker; then every byte the server wrote is scanned."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from ravyn import Ravyn
from ravyn.logging import render_traceback
from tests.cli.processes import Process, running
from tests.support.servers import NATSServer, RedisServer, free_port

pytestmark = pytest.mark.timeout(120)

BROKER_PASSWORD = "BrokerPw-7f3a9"
BODY_PASSWORD = "BodyPw-hunter2"
AUTHORIZATION = "Bearer AuthToken-5c1e"
COOKIE = "CookieSession-9d2b"
API_KEY = "PayloadKey-44aa"
SECRETS = (BROKER_PASSWORD, BODY_PASSWORD, AUTHORIZATION.split()[1], COOKIE, API_KEY)
SERVE = ["tests.web.secrets_app:app", "--host", "127.0.0.1"]
REQUEST_SECRETS = {
    "headers": {"authorization": AUTHORIZATION, "cookie": f"session={COOKIE}"},
    "json": {"email": "ada@example.com", "password": BODY_PASSWORD, "api_key": API_KEY},
}


def serve(
    tmp_path: Path, name: str, transport: str, json_logs: bool
) -> tuple[AbstractContextManager[Process], str]:
    """The app on uvicorn with ``transport``, in console or JSON log mode; and its URL."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    environment = {"RAVYN_EVENT_TRANSPORT": transport, "RAVYN_LOG_JSON": str(json_logs).lower()}
    server = running(*SERVE, "--port", str(port), program="uvicorn", log=log, **environment)
    return server, f"http://127.0.0.1:{port}"


def drive(server: Process, url: str) -> None:
    """A success (its listener fails) and a 500, each with every request-borne secret."""
    server.wait_for("Uvicorn running on")
    with httpx.Client(base_url=url, timeout=10) as client:
        assert client.post("/signup", **REQUEST_SECRETS).status_code == 201
        server.wait_for("listener_failed")
        crash = client.post("/crash", **REQUEST_SECRETS)
        assert crash.status_code == 500
        server.wait_for("unhandled_exception")


def assert_no_secret(*outputs: str) -> None:
    for output in outputs:
        assert output.strip(), "the server wrote nothing: nothing was scanned"
        leaked = [secret for secret in SECRETS if secret in output]
        assert leaked == [], f"{leaked} in the log:\n{output}"


@pytest.mark.parametrize("json_logs", [False, True], ids=["console", "json"])
def test_redis_with_a_password_success_500_failing_listener_and_dead_broker(
    tmp_path: Path, json_logs: bool
):
    redis = RedisServer(tmp_path, password=BROKER_PASSWORD)
    redis.start()
    try:
        app, url = serve(tmp_path, "app", redis.url, json_logs)
        with app as server:
            drive(server, url)
            assert "redis://***@127.0.0.1" in server.output  # transport_started, masked
            redis.stop()  # the broker dies under the running app
            with httpx.Client(base_url=url, timeout=10) as client:
                client.post("/signup", **REQUEST_SECRETS)  # an event to publish, nowhere to go
            _wait_for_any(server, ("transport_unreachable", "consumer_failed", "publish_failed"))
        running_output = server.output
        # a start while the broker is down: the error says where, without the password
        starting, _ = serve(tmp_path, "start", redis.url, json_logs)
        with starting as failed_start:
            failed_start.process.wait(timeout=60)
        start_output = failed_start.output
    finally:
        redis.stop()
    assert "cannot reach Redis at redis://***@127.0.0.1" in start_output
    assert_no_secret(running_output, start_output)


def test_nats_user_and_password_at_start_and_every_reconnect(tmp_path: Path):
    nats = NATSServer(tmp_path, user="ravyn", password=BROKER_PASSWORD)
    nats.start()
    try:
        app, url = serve(tmp_path, "nats-app", nats.url, json_logs=True)
        with app as server:
            drive(server, url)
            nats.restart()  # disconnected, then reconnected
            server.wait_for("nats_reconnected")
        output = server.output
    finally:
        nats.stop()
    assert "nats://***@127.0.0.1" in output and "nats_disconnected" in output
    assert_no_secret(output)


def _wait_for_any(server: Process, texts: tuple[str, ...], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in server.output for text in texts):
        assert time.monotonic() < deadline, f"none of {texts}:\n{server.output}"
        time.sleep(0.05)


async def test_a_failed_startup_tells_the_server_no_password():
    """The server prints the lifespan failure's message: a URL in it is masked."""

    @asynccontextmanager
    async def lifespan(app: Ravyn) -> AsyncIterator[None]:
        raise RuntimeError(f"cannot connect to postgresql://app:{BROKER_PASSWORD}@db/app")
        yield

    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "lifespan.startup"}

    async def send(message: dict) -> None:
        sent.append(message)

    with capture_logs() as logs, pytest.raises(RuntimeError):
        await Ravyn(lifespan=lifespan)({"type": "lifespan"}, receive, send)
    assert sent == [
        {
            "type": "lifespan.startup.failed",
            "message": "RuntimeError('cannot connect to postgresql://***@db/app')",
        }
    ]
    [failure] = [log for log in logs if log["event"] == "lifespan_startup_failed"]
    assert BROKER_PASSWORD not in render_traceback(failure["exc_info"][1])
