"""A client evicted under `overflow="disconnect"` loses its connection within seconds, even
when it reads nothing: the server resets the TCP connection instead of keeping it (and the
megabytes queued for it) until the client reads. Real `uvicorn` processes (each HTTP and
WebSocket protocol it offers here, on uvloop and asyncio), a raw socket for the client that
never reads."""

from __future__ import annotations

import json
import re
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from websockets.asyncio.client import connect

from ravyn.connection_abort import abort_if_still_unread
from tests.cli.processes import running, wait_until_serving
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(90)

EVENT_COUNT = 120
CLOSED_WITHIN = 15.0  # seconds; the bridge resets after 2, a kept connection never ends
_TCP_STATES = {1: "ESTABLISHED", 7: "CLOSE", 8: "CLOSE_WAIT"}

SUBSCRIBE = {
    "sse": b"GET /events/stream HTTP/1.1\r\nhost: test\r\n\r\n",
    "websocket": (
        b"GET /events/ws HTTP/1.1\r\nhost: test\r\nupgrade: websocket\r\n"
        b"connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"sec-websocket-version: 13\r\n\r\n"
    ),
}


@asynccontextmanager
async def uvicorn_serving(tmp_path: Path, *protocol: str) -> AsyncIterator[int]:
    port = free_port()
    args = ("tests.bridge.flood_node:app", "--port", str(port), "--log-level", "warning")
    with running(*args, *protocol, program="uvicorn", log=tmp_path / "server.log") as server:
        await anyio.to_thread.run_sync(
            wait_until_serving, f"http://127.0.0.1:{port}/clients", server
        )
        yield port


def subscribe_without_reading(port: int, transport: str) -> socket.socket:
    """A client with a tiny receive buffer that reads its subscription, then nothing more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    sock.sendall(SUBSCRIBE[transport])
    received = b""
    while b"subscribed" not in received:
        chunk = sock.recv(1024)
        assert chunk, f"the server closed the subscription: {received!r}"
        received += chunk
    return sock


def tcp_state(sock: socket.socket) -> str:
    """The kernel's state of this end of the connection, read without reading any data:
    a reset makes it CLOSE, a FIN CLOSE_WAIT (once the data before the FIN is read)."""
    state = struct.unpack("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]
    return _TCP_STATES.get(state, str(state))


def server_side_exists(server_port: int, client_port: int) -> bool:
    """Whether the kernel still holds the server's end of the connection from `client_port`
    (in any state: an orphan still holding queued data counts)."""
    ends = f"{server_port:04X}", f"{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote = line.split()[1:3]
        if (local.rsplit(":", 1)[1], remote.rsplit(":", 1)[1]) == ends:
            return True
    return False


async def read_everything(port: int, transport: str, numbers: list[int]) -> None:
    """Append the event numbers a well-behaved client receives, until the last one."""
    url = f"127.0.0.1:{port}/events/{'stream' if transport == 'sse' else 'ws'}"
    if transport == "sse":
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", f"http://{url}") as response,
        ):
            async for line in response.aiter_lines():
                numbers += [int(n) for n in re.findall(r'"n":(\d+),', line)]
                if numbers and numbers[-1] == EVENT_COUNT - 1:
                    return
    else:
        async with connect(f"ws://{url}", max_size=None) as websocket:
            async for message in websocket:
                event = json.loads(message)
                if "payload" in event:
                    numbers.append(event["payload"]["n"])
                    if numbers[-1] == EVENT_COUNT - 1:
                        return
    raise AssertionError(f"the stream ended after {len(numbers)} events")


async def clients(port: int) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://127.0.0.1:{port}/clients")).json()["clients"]


@pytest.mark.parametrize(
    ("transport", "protocol"),
    [
        ("sse", ("--http", "httptools", "--loop", "uvloop")),
        ("sse", ("--http", "h11", "--loop", "asyncio")),
        ("websocket", ("--ws", "websockets-sansio", "--loop", "uvloop")),
        ("websocket", ("--ws", "websockets-sansio", "--loop", "asyncio")),
        ("websocket", ("--ws", "websockets", "--loop", "asyncio")),
    ],
    ids=[
        "sse-httptools-uvloop",
        "sse-h11-asyncio",
        "ws-websockets-sansio-uvloop",
        "ws-websockets-sansio-asyncio",
        "ws-websockets-asyncio",
    ],
)
async def test_an_evicted_client_that_reads_nothing_is_disconnected(
    tmp_path: Path, transport: str, protocol: tuple[str, ...]
) -> None:
    async with uvicorn_serving(tmp_path, *protocol) as port:
        slow = subscribe_without_reading(port, transport)
        slow_port = slow.getsockname()[1]
        received: list[int] = []
        async with anyio.create_task_group() as tasks, httpx.AsyncClient(timeout=10) as http:
            tasks.start_soon(read_everything, port, transport, received)
            with anyio.fail_after(15):
                while await clients(port) < 2:
                    await anyio.sleep(0.05)
            with anyio.fail_after(60):  # each event is read by the reading client before the next
                for number in range(EVENT_COUNT):
                    await http.post(f"http://127.0.0.1:{port}/emit?number={number}")
                    while len(received) <= number:
                        await anyio.sleep(0.001)
        assert received == list(range(EVENT_COUNT))  # all of them, in order
        assert await clients(port) == 0  # the slow one was evicted, the other one left

        with anyio.fail_after(CLOSED_WITHIN):  # without reading a byte
            while tcp_state(slow) == "ESTABLISHED" or server_side_exists(port, slow_port):
                await anyio.sleep(0.05)
        assert tcp_state(slow) == "CLOSE"  # reset: the server dropped what it had queued
        with pytest.raises(ConnectionResetError):
            while slow.recv(1 << 16):  # what had reached this client's buffer, then the reset
                pass
        slow.close()


async def test_without_a_server_transport_nothing_is_scheduled() -> None:
    """A server whose send exposes no transport: the connection ends as the server closes it."""

    async def send(message: dict) -> None:
        pass

    assert abort_if_still_unread({}, send, after=0.01) is False
