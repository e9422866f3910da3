"""The WebSocket endpoint on a real uvicorn server, with the `websockets` client."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ravyn import Include, Ravyn
from ravyn.bridge import EventBridge
from ravyn.bridge import websocket as websocket_endpoint
from ravyn.events import use_registry

from .helpers import BridgedApp, receive_json, subscribed, wait_until
from .servers import serve

pytestmark = pytest.mark.timeout(30)


async def test_client_receives_exactly_its_subscription_as_json() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, subscribed(server, "?events=user.created") as ws:
        await bridged.emit("new_comment", {"text": "hi"})
        await bridged.emit("user.deleted", {"id": 1})
        await bridged.emit("user.created", {"id": 2})

        event = await receive_json(ws)
        assert event["name"] == "user.created"
        assert event["payload"] == {"id": 2}
        assert set(event) >= {"id", "emitted_at", "source", "headers", "v"}


async def test_patterns_and_several_names() -> None:
    bridged = BridgedApp()
    query = "?events=new_comment&events=user.*"
    async with serve(bridged.app) as server, subscribed(server, query) as ws:
        for name in ("user.created", "order.paid", "new_comment", "user.profile.updated"):
            await bridged.emit(name)
        await bridged.emit("user.deleted")

        names = [(await receive_json(ws))["name"] for _ in range(3)]
        assert names == ["user.created", "new_comment", "user.deleted"]


async def test_subscribe_message_replaces_the_subscription() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, subscribed(server, "?events=") as ws:
        await ws.send(json.dumps({"subscribe": ["user.*"]}))
        assert await receive_json(ws) == {"type": "subscribed", "events": ["user.*"]}
        await bridged.emit("new_comment")
        await bridged.emit("user.created")
        assert (await receive_json(ws))["name"] == "user.created"

        await ws.send(json.dumps({"subscribe": ["new_comment"]}))
        assert await receive_json(ws) == {"type": "subscribed", "events": ["new_comment"]}
        await bridged.emit("user.created")
        await bridged.emit("new_comment")
        assert (await receive_json(ws))["name"] == "new_comment"


async def test_without_a_query_the_client_gets_everything_listed_and_nothing_else() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, connect(f"{server.ws_url}/events/ws") as ws:
        assert await receive_json(ws) == {
            "type": "subscribed",
            "events": ["new_comment", "user.*"],
        }
        await bridged.emit("secret.report", {"salary": 1})
        await bridged.emit("user.created")
        assert (await receive_json(ws))["name"] == "user.created"


@pytest.mark.parametrize("asked", ["secret.report", "*", "user.profile.*"])
async def test_asking_for_an_unlisted_event_is_refused_with_1008(asked: str) -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server:
        async with connect(f"{server.ws_url}/events/ws?events={asked}") as ws:
            error = await receive_json(ws)
            assert error["type"] == "error"
            assert asked in error["message"] and "new_comment, user.*" in error["message"]
            with pytest.raises(ConnectionClosed) as closed:
                await receive_json(ws)
        assert closed.value.rcvd.code == 1008
        await wait_until(lambda: bridged.bridge.hub.client_count == 0)


async def test_subscribe_message_for_an_unlisted_event_closes_with_1008() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server, subscribed(server) as ws:
        await ws.send(json.dumps({"subscribe": ["new_comment", "secret.report"]}))
        error = await receive_json(ws)
        assert error["type"] == "error" and "secret.report" in error["message"]
        with pytest.raises(ConnectionClosed) as closed:
            await receive_json(ws)
        assert closed.value.rcvd.code == 1008
        await wait_until(lambda: bridged.bridge.hub.client_count == 0)


async def test_a_message_that_is_not_a_subscription_gets_an_error_and_the_connection_stays() -> (
    None
):
    bridged = BridgedApp()
    async with serve(bridged.app) as server, subscribed(server, "?events=new_comment") as ws:
        await ws.send("hello?")
        error = await receive_json(ws)
        assert error["type"] == "error" and '{"subscribe"' in error["message"]
        await bridged.emit("new_comment")
        assert (await receive_json(ws))["name"] == "new_comment"


async def test_refused_authorization_rejects_the_handshake() -> None:
    bridged = BridgedApp(authorize=lambda connection: False)
    async with serve(bridged.app) as server:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/events/ws"):
                pass
        assert refused.value.response.status_code == 403
        assert bridged.bridge.hub.client_count == 0


async def test_authorization_narrows_what_a_connection_may_receive() -> None:
    async def authorize(connection) -> bool | set[str]:
        grants = {"staff": True, "reader": {"new_comment", "user.created", "payroll"}}
        return grants.get(connection.cookies.get("session", ""), False)

    bridged = BridgedApp(authorize=authorize)
    async with serve(bridged.app) as server:
        url = f"{server.ws_url}/events/ws"
        async with connect(url, additional_headers={"cookie": "session=reader"}) as reader:
            granted = await receive_json(reader)
            # "payroll" is not exposed by the bridge: a grant cannot widen it.
            assert granted == {"type": "subscribed", "events": ["new_comment", "user.created"]}
            await bridged.emit("payroll")
            await bridged.emit("user.deleted")
            await bridged.emit("user.created")
            assert (await receive_json(reader))["name"] == "user.created"

        headers = {"cookie": "session=reader"}
        async with connect(f"{url}?events=user.*", additional_headers=headers) as reader:
            assert "user.*" in (await receive_json(reader))["message"]
            with pytest.raises(ConnectionClosed) as closed:
                await receive_json(reader)
            assert closed.value.rcvd.code == 1008

        with pytest.raises(InvalidStatus):
            async with connect(url, additional_headers={"cookie": "session=stranger"}):
                pass


async def test_idle_connections_are_pinged() -> None:
    bridged = BridgedApp(ping_interval=0.05)
    async with serve(bridged.app) as server, subscribed(server) as ws:
        assert await receive_json(ws) == {"type": "ping"}
        await bridged.emit("new_comment")
        message = await receive_json(ws)
        while message == {"type": "ping"}:
            message = await receive_json(ws)
        assert message["name"] == "new_comment"


async def test_disconnects_leave_no_client_behind() -> None:
    bridged = BridgedApp()
    async with serve(bridged.app) as server:
        async with subscribed(server), subscribed(server, "?events=new_comment"):
            assert bridged.bridge.hub.client_count == 2
        await wait_until(lambda: bridged.bridge.hub.client_count == 0)
        await bridged.emit("new_comment")  # nobody left to deliver to: no error
        assert bridged.bridge.hub.client_count == 0


# Big, incompressible events fill the slow client's socket buffers quickly.
BLOB = base64.b64encode(os.urandom(75_000)).decode()
EVENT_COUNT = 120


@asynccontextmanager
async def flooded_slow_client(bridged: BridgedApp) -> AsyncIterator[ClientConnection]:
    """A slow client that has read nothing while EVENT_COUNT big events went by.

    Each event is read by a fast client before the next is emitted: the bus and the fast
    client never wait for the slow one, or this times out.
    """
    async with (
        serve(bridged.app) as server,
        subscribed(server, slow=True) as slow,
        subscribed(server) as fast,
    ):
        with anyio.fail_after(20):
            for number in range(EVENT_COUNT):
                await bridged.emit("big", {"n": number, "blob": BLOB})
                assert (await receive_json(fast))["payload"]["n"] == number
        yield slow


async def test_slow_client_does_not_block_the_bus_or_a_fast_client() -> None:
    """...and the slow client is told how many of its oldest events were dropped."""
    bridged = BridgedApp(events=["big"], queue_size=4)
    async with flooded_slow_client(bridged) as slow:
        numbers: list[int] = []
        dropped = 0
        while not numbers or numbers[-1] != EVENT_COUNT - 1:
            message = await receive_json(slow)
            if message.get("type") == "overflow":
                dropped += message["dropped"]
            else:
                numbers.append(message["payload"]["n"])
        assert dropped > 0
        assert len(numbers) + dropped == EVENT_COUNT
        assert numbers == sorted(numbers)


async def test_disconnect_policy_closes_the_slow_client_with_1013(monkeypatch) -> None:
    """A slow client that reads its backlog in time gets the 1013 (test_eviction.py: one
    that does not is reset); the time is generous here, the flood takes a while."""
    monkeypatch.setattr(websocket_endpoint, "CLOSE_TIMEOUT", 60.0)
    bridged = BridgedApp(events=["big"], queue_size=4, overflow="disconnect")
    async with flooded_slow_client(bridged) as slow:
        assert bridged.bridge.hub.client_count == 1  # the slow one is gone already
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await receive_json(slow)
        assert closed.value.rcvd.code == 1013


async def test_two_bridges_with_the_same_events_in_one_app_both_receive() -> None:
    with use_registry():
        first, second = EventBridge(["new_comment"]), EventBridge(["new_comment"])
        app = Ravyn(routes=[Include("/one", app=first), Include("/two", app=second)])
    async with (
        serve(app) as server,
        connect(f"{server.ws_url}/one/ws") as one,
        connect(f"{server.ws_url}/two/ws") as two,
    ):
        for websocket in (one, two):
            assert (await receive_json(websocket))["type"] == "subscribed"
        await app.events.emit("new_comment", wait=True)
        for websocket in (one, two):
            assert (await receive_json(websocket))["name"] == "new_comment"
