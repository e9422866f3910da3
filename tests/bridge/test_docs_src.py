"""Every docs_src/bridge sample, run as the docs page shows it: with the in-process
TestClient, and on a real uvicorn server where a real client is involved."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import anyio
import httpx
import pytest
from lilya.websockets import WebSocketDisconnect

from ravyn.events import Registry
from ravyn.testclient import TestClient
from tests.support.samples import load_sample

from .helpers import wait_until
from .servers import serve

pytestmark = pytest.mark.timeout(30)

DOCS_SRC = Path(__file__).parents[2] / "docs_src" / "bridge"


def load(name: str) -> ModuleType:
    """A fresh copy of docs_src/bridge/<name>.py, in a registry of its own."""
    return load_sample(f"bridge/{name}.py", Registry())


def test_comments_are_streamed_to_a_websocket_client() -> None:
    comments = load("comments")
    with TestClient(comments.app) as client:
        with client.websocket_connect("/events/ws?events=new_comment") as websocket:
            assert websocket.receive_json() == {"type": "subscribed", "events": ["new_comment"]}
            response = client.post("/comments", json={"post_id": 1, "content": "First!"})
            assert response.status_code in (200, 201)

            event = websocket.receive_json()
            assert event["name"] == "new_comment"
            assert event["payload"] == {"post_id": 1, "content": "First!"}
            assert event["source"]  # where it came from, e.g. "POST /comments"

        assert client.get("/events/live").headers["content-type"].startswith("text/html")
    assert comments.bridge.hub.client_count == 0


def test_authorize_grants_by_session_cookie_and_refuses_strangers() -> None:
    authorize = load("authorize")
    with TestClient(authorize.app) as client:
        headers = {"cookie": "session=reader-token"}
        with client.websocket_connect("/events/ws", headers=headers) as websocket:
            assert websocket.receive_json() == {"type": "subscribed", "events": ["new_comment"]}

        with client.websocket_connect("/events/ws?token=staff-token") as websocket:
            assert websocket.receive_json()["events"] == ["new_comment", "user.*"]

        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/events/ws"):
            pass
        assert refused.value.code == 1008

        assert client.get("/events/stream").status_code == 403
        reader = {"authorization": "Bearer reader-token"}
        assert client.get("/events/stream?events=user.*", headers=reader).status_code == 403


async def test_the_python_client_follows_events_from_a_real_server() -> None:
    comments, ws_client = load("comments"), load("ws_client")
    async with serve(comments.app) as server:
        received: list[dict] = []

        async def follow_one() -> None:
            async for event in ws_client.follow(f"{server.ws_url}/events/ws", ["new_comment"]):
                received.append(event)
                return

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(follow_one)
            await wait_until(lambda: comments.bridge.hub.client_count == 1)
            async with httpx.AsyncClient(base_url=server.http_url) as client:
                await client.post("/comments", json={"post_id": 7, "content": "hello"})
        assert received[0]["payload"] == {"post_id": 7, "content": "hello"}
