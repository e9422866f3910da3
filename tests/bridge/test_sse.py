"""The Server-Sent Events endpoint on a real uvicorn server, read with httpx streaming."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import anyio
import httpx
import pytest

from ravyn.events import Event

from .helpers import BridgedApp, SSEMessage, next_sse, sse_messages, wait_until
from .servers import RunningServer, serve

pytestmark = pytest.mark.timeout(30)


@asynccontextmanager
async def stream(
    server: RunningServer, query: str = "", headers: dict[str, str] | None = None
) -> AsyncIterator[AsyncIterator[SSEMessage]]:
    """An open event stream whose client is registered (the first comment has arrived)."""
    async with (
        httpx.AsyncClient(base_url=server.http_url) as client,
        client.stream("GET", f"/events/stream{query}", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        messages = sse_messages(response)
        first = await anext(messages)
        assert first.comment is not None and first.comment.startswith("subscribed to")
        yield messages


async def test_each_event_is_one_sse_message_with_id_name_and_json_envelope() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, stream(server, "?events=user.created") as messages:
        await bridged.emit("new_comment", {"text": "hi"})
        await bridged.emit("user.deleted")
        sent = await bridged.emit("user.created", {"id": 2})

        message = await next_sse(messages)
        assert message.id == sent.id
        assert message.event == "user.created"
        envelope = message.json()
        assert envelope["name"] == "user.created" and envelope["payload"] == {"id": 2}
        assert envelope["id"] == sent.id


async def test_without_events_the_stream_carries_everything_listed_only() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, stream(server) as messages:
        await bridged.emit("secret.report")
        await bridged.emit("new_comment")
        assert (await next_sse(messages)).event == "new_comment"


async def test_refusals_are_403_with_the_reason() -> None:
    bridged = BridgedApp(authorize=lambda request: request.query_params.get("token") == "ok")
    async with serve(bridged.app) as server, httpx.AsyncClient(base_url=server.http_url) as client:
        refused = await client.get("/events/stream")
        assert refused.status_code == 403
        assert refused.json() == {"detail": "Not authorized to receive events."}

        unlisted = await client.get("/events/stream?token=ok&events=new_comment,secret.report")
        assert unlisted.status_code == 403
        assert "secret.report" in unlisted.json()["detail"]

        posted = await client.post("/events/stream?token=ok")
        assert posted.status_code == 405
    assert bridged.bridge.hub.client_count == 0


async def test_last_event_id_resumes_after_the_given_event_then_goes_live() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server:
        sent = [await bridged.emit("new_comment", {"n": number}) for number in range(4)]
        await bridged.emit("user.created")  # not subscribed: not replayed
        headers = {"last-event-id": sent[1].id}
        async with stream(server, "?events=new_comment", headers=headers) as messages:
            live = await bridged.emit("new_comment", {"n": 4})
            received = [(await next_sse(messages)).id for _ in range(3)]
            assert received == [sent[2].id, sent[3].id, live.id]


async def test_a_forgotten_last_event_id_is_reported_as_a_gap() -> None:
    bridged = BridgedApp(history_size=2)
    async with serve(bridged.app) as server:
        first = await bridged.emit("new_comment")
        for _ in range(2):
            await bridged.emit("new_comment")
        async with stream(server, headers={"last-event-id": first.id}) as messages:
            gap = await next_sse(messages)
            assert gap.event == "history_gap"
            assert gap.json() == {"type": "history_gap", "last_event_id": first.id}
            live = await bridged.emit("new_comment")
            assert (await next_sse(messages)).id == live.id


async def test_idle_streams_get_ping_comments() -> None:
    bridged = BridgedApp(ping_interval=0.05)
    async with serve(bridged.app) as server, stream(server) as messages:
        assert (await anext(messages)).comment == "ping"


async def test_closing_the_stream_forgets_the_client() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server:
        async with stream(server), stream(server, "?events=new_comment"):
            assert bridged.bridge.hub.client_count == 2
        await wait_until(lambda: bridged.bridge.hub.client_count == 0)


async def test_a_slow_stream_is_told_what_it_missed_and_the_bus_goes_on() -> None:
    """A raw HTTP client with a tiny receive buffer that reads nothing while big events go
    by, then reads everything: an `overflow` event stands where events were dropped."""
    bridged = BridgedApp(events=["big"], queue_size=4)
    blob = base64.b64encode(os.urandom(75_000)).decode()
    async with serve(bridged.app) as server:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
        sock.connect(("127.0.0.1", server.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(b"GET /events/stream HTTP/1.1\r\nhost: test\r\n\r\n")
        await wait_until(lambda: bridged.bridge.hub.client_count == 1)

        with anyio.fail_after(20):  # the bus never waits for the stalled reader
            for number in range(120):
                await bridged.emit("big", {"n": number, "blob": blob})

        received = b""
        with anyio.fail_after(10):
            while b'"n":119,' not in received:
                received += await reader.read(1 << 20)
        writer.close()
    overflow = received.index(b"event: overflow\ndata: ")
    dropped = json.loads(received[overflow:].split(b"\n")[1].removeprefix(b"data: "))
    assert dropped["type"] == "overflow" and dropped["dropped"] > 0
    numbers = [int(match) for match in re.findall(rb'"n":(\d+),', received)]
    assert numbers == sorted(numbers) and len(numbers) + dropped["dropped"] == 120


async def test_a_newline_in_an_event_id_cannot_forge_a_field() -> None:
    """Names are checked when an Event is made; an id from a producer outside ravyn is
    not, so the SSE writer escapes what would break its line."""
    bridged = BridgedApp()
    forged_id = '1\nevent: admin_only\ndata: {"forged": true}'
    async with serve(bridged.app) as server, stream(server, "?events=user.created") as messages:
        event = Event(name="user.created", id=forged_id, emitted_at=datetime.now(UTC))
        await bridged.bus.deliver_local(event)
        message = await next_sse(messages)
        following = await bridged.emit("user.created", {"id": 2})
        assert (await next_sse(messages)).id == following.id  # nothing else came between
    assert message.event == "user.created"
    assert message.id == forged_id.replace("\n", "\\n")
    assert message.json()["id"] == forged_id
