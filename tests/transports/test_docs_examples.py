"""The samples of docs/transports.md and docs/worker.md, run as written on real servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from ravyn.events import Event, EventBus, Listener, Registry, use_registry
from ravyn.events.transports.nats import NATSTransport
from ravyn.events.transports.redis import RedisTransport
from ravyn.testclient import TestClient
from tests.support.samples import load_sample
from tests.support.servers import NATSServer, RedisServer

from .brokers import REPO, wait_until

pytestmark = pytest.mark.timeout(30)
SAMPLES = REPO / "docs_src" / "transports"


def load(name: str) -> ModuleType:
    """A fresh copy of docs_src/transports/<name>, registering into the active registry."""
    return load_sample(f"transports/{name}")


def test_choosing_a_transport() -> None:
    with use_registry(Registry()):
        sample = load("choosing.py")
    assert isinstance(sample.by_url.events.transport, RedisTransport)
    assert sample.on_redis.events.transport.key("order.placed") == "shop:order.placed"
    assert sample.on_nats.events.transport.jetstream is True
    assert isinstance(sample.on_nats.events.transport, NATSTransport)


def test_the_app_sample_runs_both_scopes(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    with use_registry(Registry()):
        sample = load("app.py")
    assert sample.app.events.transport.key("user_registered") == "myapp:user_registered"
    with TestClient(sample.app) as client:
        response = client.post("/register", json={"email": "ada@example.com"})
        assert response.status_code in (200, 201)
        deadline = time.monotonic() + 10
        while not (sample.welcome_emails and sample.live_updates):
            assert time.monotonic() < deadline, "the listeners did not run"
            time.sleep(0.01)
    assert sample.welcome_emails == ["ada@example.com"]
    assert sample.live_updates == [{"email": "ada@example.com", "user_id": 42}]


def recording_registry(received: list[Event], *, broadcast: bool = False) -> Registry:
    async def on_registered(event: Event) -> None:
        received.append(event)

    registry = Registry()
    registry.add_listener(Listener(on_registered, ("user_registered",), broadcast=broadcast))
    return registry


@pytest.mark.parametrize("broadcast", [False, True], ids=["durable", "broadcast"])
async def test_an_event_published_with_redis_cli(
    redis_server: RedisServer, broadcast: bool
) -> None:
    received: list[Event] = []
    transport = RedisTransport(redis_server.url)
    async with EventBus(recording_registry(received, broadcast=broadcast), transport=transport):
        subprocess.run(
            ["bash", str(SAMPLES / "publish_with_redis_cli.sh")],
            env={**os.environ, "REDIS_PORT": str(redis_server.port)},
            check=True,
            capture_output=True,
        )
        await wait_until(lambda: received, what="the hand-made event")
    assert received[0].payload == {"email": "ada@example.com", "user_id": 42}
    assert received[0].id == "7f9c2a5e0b"


async def test_a_signed_event_published_with_nats_py(nats_server: NATSServer) -> None:
    received: list[Event] = []
    transport = NATSTransport([nats_server.url], secret="s3cret")
    async with EventBus(recording_registry(received), transport=transport):
        await load("publish_with_nats.py").publish(nats_server.url, secret="s3cret")
        await wait_until(lambda: received, what="the signed event")
    assert received[0].source == "billing-service"
    assert len(received[0].headers["signature"]) == 64


def start_worker(command: list[str], log: Path, **env: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **env},
        )


async def test_the_worker_sample(redis_server: RedisServer, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(
        [sys.executable, "-m", "ravyn.cli", "worker", "docs_src.transports.listeners"]
        + ["--transport", redis_server.url, "--grace", "5"],
        log,
    )
    try:
        await wait_until(lambda: "worker_ready" in log.read_text(), 15, "the worker")
        async with EventBus(Registry(), transport=RedisTransport(redis_server.url)) as bus:
            await bus.emit("user_registered", {"email": "ada@example.com"})
            await bus.emit("user.renamed", {"user_id": 42, "name": "Ada"})
        await wait_until(
            lambda: (
                "welcome email sent to ada@example.com" in log.read_text()
                and "audit {'user_id': 42, 'name': 'Ada'}" in log.read_text()
            ),
            what="both listeners",
        )
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()


async def test_the_worker_started_from_python(redis_server: RedisServer, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(
        [sys.executable, str(SAMPLES / "worker_main.py")], log, REDIS_URL=redis_server.url
    )
    try:
        await wait_until(lambda: "worker_ready" in log.read_text(), 15, "the worker")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) == 0
        assert "worker_stopped" in log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()


def test_the_in_memory_sample() -> None:
    with use_registry(Registry()):
        sample = load("in_memory.py")
        sample.test_each_listener_runs_where_it_should()
