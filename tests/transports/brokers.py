"""The same questions asked of Redis, NATS and the in-memory broker, so that each test
runs on all three (the transport conformance suite).

A `Broker` builds transports for its server and reads the server's state with the raw
client: to inject a hand-made message, list dead letters, or tell that a listener's
consumer has nothing left pending (which is how a test knows nothing more will come).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from ravyn.events.transports.contract import Transport
from ravyn.events.transports.memory import MemoryBroker as InMemoryBroker
from ravyn.events.transports.memory import MemoryTransport
from ravyn.events.transports.nats import NATSTransport, durable_name
from ravyn.events.transports.redis import RedisTransport
from tests.support.servers import NATSServer, RedisServer

REPO = Path(__file__).resolve().parents[2]


async def wait_until(
    predicate: Callable[[], Awaitable[bool] | bool], timeout: float = 10.0, what: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        await asyncio.sleep(0.01)


class RedisBroker:
    kind = "redis"

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.url = server.url

    def transport(self, **options: Any) -> Transport:
        return RedisTransport(self.url, **{"block": 0.2, **options})

    def client(self) -> Any:
        import redis.asyncio as redis

        return redis.Redis.from_url(self.url)

    async def inject(self, event_name: str, data: bytes) -> None:
        async with self.client() as client:
            await client.xadd(f"ravyn:{event_name}", {"data": data})
            await client.publish(f"ravyn:{event_name}", data)

    async def dead_letters(self) -> list[tuple[bytes, str]]:
        async with self.client() as client:
            entries = await client.xrange("ravyn:dead")
        return [(fields[b"data"], fields[b"error"].decode()) for _, fields in entries]

    async def settled(self, listener: str, event_name: str) -> bool:
        async with self.client() as client:
            groups = await client.xinfo_groups(f"ravyn:{event_name}")
        group = next(g for g in groups if g["name"].decode() == listener)
        return bool(group["entries-read"]) and group["pending"] == 0 and group["lag"] == 0


class NATSBroker:
    kind = "nats"

    def __init__(self, server: NATSServer) -> None:
        self.server = server
        self.url = server.url

    def transport(self, **options: Any) -> Transport:
        return NATSTransport([self.url], **{"fetch_timeout": 0.2, **options})

    async def with_jetstream(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        import nats

        nc = await nats.connect(self.url)
        try:
            return await work(nc.jetstream())
        finally:
            await nc.close()

    async def inject(self, event_name: str, data: bytes) -> None:
        import nats

        nc = await nats.connect(self.url)
        await nc.jetstream().publish(f"ravyn.events.{event_name}", data)
        await nc.publish(f"ravyn.core.{event_name}", data)
        await nc.close()

    async def dead_letters(self) -> list[tuple[bytes, str]]:
        async def read(js: Any) -> list[tuple[bytes, str]]:
            state = (await js.stream_info("RAVYN_DEAD")).state
            letters = []
            for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                message = await js.get_msg("RAVYN_DEAD", seq)
                letters.append((message.data, message.headers["Ravyn-Error"]))
            return letters

        return await self.with_jetstream(read)

    async def settled(self, listener: str, event_name: str) -> bool:
        async def check(js: Any) -> bool:
            info = await js.consumer_info("RAVYN_EVENTS", durable_name(listener))
            read = info.delivered.stream_seq > 0
            return read and info.num_pending == 0 and info.num_ack_pending == 0

        return await self.with_jetstream(check)


class MemoryBroker:
    """The in-memory broker of one test (a fresh name, held for the test's length)."""

    kind = "memory"

    def __init__(self) -> None:
        self.url = f"memory://{uuid.uuid4().hex}"
        self.broker = InMemoryBroker.named(self.url.removeprefix("memory://"))

    def transport(self, **options: Any) -> Transport:
        return MemoryTransport(self.broker.name, **options)

    async def inject(self, event_name: str, data: bytes) -> None:
        self.broker.append(event_name, data)
        self.broker.broadcast(event_name, data)

    async def dead_letters(self) -> list[tuple[bytes, str]]:
        return [(letter.data, letter.error) for letter in self.broker.dead_letters]

    async def settled(self, listener: str, event_name: str) -> bool:
        # A server is asked over the network, which lets the publishers' outboxes flush
        # meanwhile; without that pause this would answer before the last batch arrived.
        await asyncio.sleep(0.01)
        group = self.broker.groups.get(listener)
        return group is not None and group.settled


Broker = RedisBroker | NATSBroker | MemoryBroker


class Outcomes:
    """The lines the listeners of the worker processes wrote: `<kind> <pid> <event id>`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def lines(self, kind: str) -> list[tuple[int, str]]:
        rows = [line.split() for line in self.path.read_text().splitlines()]
        return [(int(pid), event_id) for k, pid, event_id in rows if k == kind]


class Endpoint(Protocol):
    """Where a worker connects: its broker's kind and a URL `transport_from_url` takes."""

    kind: str
    url: str


class Worker:
    """A `run_worker` process running tests/transports/listeners_app.py."""

    def __init__(self, broker: Endpoint, outcomes: Outcomes, log: Path) -> None:
        self.log = log
        child = REPO / "tests/transports/worker_child.py"
        env = {**os.environ, "PYTHONPATH": str(REPO), "RAVYN_TEST_OUTCOMES": str(outcomes.path)}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(child), broker.kind, broker.url],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                env=env,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ready(self, timeout: float = 15.0) -> None:
        def started() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.log.read_text()}")
            return "worker_ready" in self.log.read_text()

        await wait_until(started, timeout, "the worker to be ready")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout)
