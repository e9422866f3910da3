"""Two processes sharing a Redis transport, each serving its own WebSocket client: every
client receives every event exactly once, whichever process emitted it."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.servers import RedisServer, free_port

from .helpers import receive_json, wait_until

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def nodes(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[int]]:
    """Two app processes; their ports. uvicorn listens only after the lifespan (bus and
    transport) has started, so an open port means a subscribed process."""
    ports = [free_port(), free_port()]
    processes = []
    for port in ports:
        log = open(tmp_path / f"node-{port}.log", "wb")  # noqa: SIM115 - owned by the process
        command = [sys.executable, "-m", "tests.bridge.cluster_node", redis_server.url, str(port)]
        processes.append(subprocess.Popen(command, cwd=REPO, stdout=log, stderr=log))
        log.close()
    yield ports
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=10)


async def test_each_client_receives_each_event_once_whichever_process_emitted_it(
    nodes: list[int], tmp_path: Path
) -> None:
    for port in nodes:
        await wait_until(lambda port=port: accepts_connections(port), timeout=20)
    query = "/events/ws?events=new_comment"
    async with (
        connect(f"ws://127.0.0.1:{nodes[0]}{query}") as first,
        connect(f"ws://127.0.0.1:{nodes[1]}{query}") as second,
        httpx.AsyncClient() as http,
    ):
        for websocket in (first, second):
            assert (await receive_json(websocket))["type"] == "subscribed"

        emitters: list[int] = []
        for number in range(6):
            port = nodes[number % 2]  # alternate the emitting process
            response = await http.post(f"http://127.0.0.1:{port}/emit?number={number}")
            assert response.status_code in (200, 201), response.text
            emitters.append(response.json()["pid"])
        assert len(set(emitters)) == 2

        # Then one last event from each process: an event doubled (by either process) would
        # take the place of one of these among the 8 messages read.
        for number, port in ((6, nodes[0]), (7, nodes[1])):
            response = await http.post(f"http://127.0.0.1:{port}/emit?number={number}")
            emitters.append(response.json()["pid"])

        expected = dict(enumerate(emitters))
        for websocket in (first, second):
            received = [(await receive_json(websocket))["payload"] for _ in range(8)]
            assert {payload["number"]: payload["pid"] for payload in received} == expected
            assert len(received) == len(expected)  # each once: 8 messages, 8 distinct events
