"""Event bridge: fan-out cost, WebSocket delivery through uvicorn, and a stalled client.

Baseline measured in the same run: the hand-written way (the observables page's Example 3):
a list of connected WebSockets and a listener that awaits `send_text` on each in turn.

1. In-process fan-out of one event to N clients: the hub (encode once, put in each bounded
   queue) against encoding per client into a per-client asyncio.Queue.
2. Through a real uvicorn server: C WebSocket clients (the `websockets` library, in this
   process) each receive E events; delivered messages per second.
3. The same with one more client that never reads: how many events the bus emits in the
   time allowed. The hand-written listener blocks on the stalled client; the bridge does not.

Bounded to well under a minute. Run: .venv/bin/python bench/bench_bridge.py
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import statistics
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import msgspec
import structlog
import uvicorn
from lilya.apps import Lilya
from lilya.routing import Include, WebSocketPath
from lilya.websockets import WebSocket
from websockets.asyncio.client import connect

from ravyn.bridge import EventBridge
from ravyn.bridge.hub import Hub
from ravyn.events import Event, EventBus, Listener, Registry
from ravyn.events.registry import matches

ROUNDS = 5
CLIENTS = 10
EVENTS = 2_000
STALL_EVENTS = 2_000
STALL_SECONDS = 3.0
STALL_BLOB = base64.b64encode(os.urandom(15_000)).decode()  # incompressible, 20 kB


def make_event(number: int) -> Event:
    return Event(
        name="new_comment",
        payload={"post_id": number, "content": "a comment of a usual length, say sixty chars"},
        id=f"{number:032x}",
        emitted_at=datetime.now(UTC),
    )


# -- 1. in-process fan-out ------------------------------------------------------------------


def fanout_rates(clients: int) -> tuple[float, float]:
    """Events per second handed to `clients` queues: (hub, encode-per-client baseline)."""
    count = max(200, 50_000 // clients)
    events = [make_event(number) for number in range(count)]

    async def hub_rate() -> float:
        hub = Hub(matches=matches, queue_size=count + 1)
        for _ in range(clients):
            hub.connect(["new_comment"])
        start = time.perf_counter()
        for event in events:
            hub.publish(event)
        return count / (time.perf_counter() - start)

    async def baseline_rate() -> float:
        queues = [asyncio.Queue(maxsize=count + 1) for _ in range(clients)]
        encode = msgspec.json.encode
        start = time.perf_counter()
        for event in events:
            for queue in queues:
                queue.put_nowait(encode(event))
        return count / (time.perf_counter() - start)

    hub = statistics.median(asyncio.run(hub_rate()) for _ in range(ROUNDS))
    baseline = statistics.median(asyncio.run(baseline_rate()) for _ in range(ROUNDS))
    return hub, baseline


# -- 2 and 3. through uvicorn ---------------------------------------------------------------


class Setup:
    """An app serving WebSocket clients at /events/ws, and its bus."""

    def __init__(self, bridged: bool, queue_size: int = 100) -> None:
        registry = Registry()
        self.bus = EventBus(registry)
        if bridged:
            bridge = EventBridge(events=["new_comment"], queue_size=queue_size, registry=registry)
            routes = [Include("/events", app=bridge)]
        else:
            connections: list[WebSocket] = []

            async def endpoint(websocket: WebSocket) -> None:
                await websocket.accept()
                connections.append(websocket)
                await websocket.send_text('{"type":"subscribed"}')
                try:
                    await websocket.receive_text()
                finally:
                    connections.remove(websocket)

            async def broadcast(event: Event) -> None:
                text = msgspec.json.encode(event).decode()
                for websocket in list(connections):
                    await websocket.send_text(text)

            registry.add_listener(Listener(broadcast, ("new_comment",)))
            routes = [WebSocketPath("/events/ws", endpoint)]

        @asynccontextmanager
        async def lifespan(app: Lilya) -> AsyncIterator[None]:
            async with self.bus:
                yield

        self.app = Lilya(routes=routes, lifespan=lifespan)


@asynccontextmanager
async def running(app: Lilya) -> AsyncIterator[int]:
    server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def reader(port: int, ready: asyncio.Event, expected: int, counts: list[int]) -> None:
    async with connect(f"ws://127.0.0.1:{port}/events/ws") as websocket:
        await websocket.recv()  # subscribed
        counts.append(0)
        index = len(counts) - 1
        if len(counts) == CLIENTS:
            ready.set()
        while counts[index] < expected:
            if b'"name"' in await websocket.recv(decode=False):
                counts[index] += 1


def stalled_client(port: int) -> connect:
    """A client that subscribes, then never reads again (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
    sock.connect(("127.0.0.1", port))
    return connect(f"ws://127.0.0.1:{port}/events/ws", sock=sock)


async def delivery_rate(bridged: bool) -> float:
    """Messages per second delivered to CLIENTS readers, E events each.

    The emitter does not pause between events, so the bridge's queues hold them all: this
    measures throughput, not the overflow policy.
    """
    setup = Setup(bridged, queue_size=EVENTS)
    async with running(setup.app) as port:
        ready, counts = asyncio.Event(), []
        readers = [asyncio.create_task(reader(port, ready, EVENTS, counts)) for _ in range(CLIENTS)]
        await ready.wait()
        start = time.perf_counter()
        for number in range(EVENTS):
            await setup.bus.emit("new_comment", make_event(number).payload, wait=True)
        await asyncio.gather(*readers)
        return EVENTS * CLIENTS / (time.perf_counter() - start)


async def emitted_with_a_stalled_client(bridged: bool) -> tuple[int, float]:
    """(events emitted within STALL_SECONDS, seconds taken) with one client never reading."""
    setup = Setup(bridged)
    async with running(setup.app) as port, stalled_client(port) as stalled:
        await stalled.recv()  # subscribed; it reads nothing more
        emitted = 0
        start = time.perf_counter()
        try:
            async with asyncio.timeout(STALL_SECONDS):
                for number in range(STALL_EVENTS):
                    payload = {"n": number, "blob": STALL_BLOB}
                    await setup.bus.emit("new_comment", payload, wait=True)
                    emitted += 1
                    await asyncio.sleep(0)  # let the server write, as a real emitter would
        except TimeoutError:
            pass
        return emitted, time.perf_counter() - start


def main() -> None:
    # Quiet: the hand-written listener's failures (the stalled client) are expected here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    started = time.perf_counter()
    rows: list[tuple[str, float, float]] = []
    for clients in (1, 100, 1000):
        hub, baseline = fanout_rates(clients)
        rows.append((f"fan-out to {clients} queues (events/s)", hub, baseline))

    def median_of(run: Callable[[], float], rounds: int = 3) -> float:
        return statistics.median(run() for _ in range(rounds))

    bridge_rate = median_of(lambda: asyncio.run(delivery_rate(True)))
    hand_rate = median_of(lambda: asyncio.run(delivery_rate(False)))
    rows.append((f"uvicorn, {CLIENTS} WS clients (msgs/s)", bridge_rate, hand_rate))

    bridge_emitted, bridge_seconds = asyncio.run(emitted_with_a_stalled_client(True))
    hand_emitted, hand_seconds = asyncio.run(emitted_with_a_stalled_client(False))

    print(f"{'measure':42} {'bridge':>12} {'hand-written':>13} {'ratio':>7}")
    for name, bridge, baseline in rows:
        print(f"{name:42} {bridge:12,.0f} {baseline:13,.0f} {bridge / baseline:6.2f}x")
    print()
    print(f"one stalled client, {STALL_EVENTS} events of 20 kB, at most {STALL_SECONDS:.0f} s:")
    print(f"  bridge:       {bridge_emitted:5} emitted in {bridge_seconds:.2f} s")
    print(f"  hand-written: {hand_emitted:5} emitted in {hand_seconds:.2f} s", end="")
    print("  (the listener waits on the stalled client)" if hand_emitted < STALL_EVENTS else "")
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
