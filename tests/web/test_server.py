"""The main paths through a real uvicorn server, with httpx and websockets clients."""

import threading

import httpx
import msgspec
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ravyn.app import Ravyn
from ravyn.events import Event, Registry, observable, use_registry
from ravyn.exceptions import NotAuthorized
from ravyn.routing import Inject, get, post, websocket
from ravyn.websockets import WebSocket
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)


class Signup(msgspec.Struct):
    email: str
    age: int


received: list[Event] = []
listener_ran = threading.Event()

with use_registry(Registry()):

    @get("/hello")
    async def hello() -> dict:
        return {"hello": "world"}

    @post("/signups")
    @observable(send=["signed_up"])
    async def signup(data: Signup) -> Signup:
        return data

    @observable(listen=["signed_up"])
    async def on_signup(event: Event) -> None:
        received.append(event)
        listener_ran.set()

    def require_ticket(websocket: WebSocket) -> None:
        if websocket.query_params.get("ticket") != "ok":
            raise NotAuthorized("no ticket")

    @websocket("/guarded", dependencies={"ticket": Inject(require_ticket)})
    async def guarded(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("welcome")

    @websocket("/echo")
    async def echo(socket: WebSocket) -> None:
        await socket.accept()
        async for text in socket.iter_text():
            await socket.send_json({"echo": text})

    app = Ravyn(routes=[hello, signup, echo, guarded])


@pytest.fixture(scope="module")
def address():
    with serve(app) as address:
        yield address


def test_get(address):
    response = httpx.get(f"http://{address}/hello")
    assert response.status_code == 200
    assert response.json() == {"hello": "world"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]


def test_typed_post_and_its_event(address):
    response = httpx.post(
        f"http://{address}/signups",
        json={"email": "ada@example.com", "age": 36},
        headers={"x-request-id": "server-req-1"},
    )
    assert response.status_code == 201
    assert response.json() == {"email": "ada@example.com", "age": 36}
    assert listener_ran.wait(timeout=10)
    [event] = received
    assert event.payload == Signup(email="ada@example.com", age=36)
    assert event.headers["correlation-id"] == "server-req-1"
    assert event.source == "POST /signups"


def test_invalid_body_is_a_422_and_malformed_a_400(address):
    invalid = httpx.post(f"http://{address}/signups", json={"email": "x", "age": "old"})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "age"]
    malformed = httpx.post(f"http://{address}/signups", content=b"{nope")
    assert malformed.status_code == 400


def test_websocket(address):
    with connect(f"ws://{address}/echo") as socket:
        socket.send("hi")
        assert msgspec.json.decode(socket.recv(timeout=10)) == {"echo": "hi"}


def test_head_of_a_get_route_has_no_body(address):
    response = httpx.head(f"http://{address}/hello")
    assert response.status_code == 200
    assert response.content == b""


def test_trailing_slash_post_is_redirected_as_a_post(address):
    response = httpx.post(
        f"http://{address}/signups/", json={"email": "a@b.c", "age": 3}, follow_redirects=True
    )
    assert [r.status_code for r in response.history] == [307]
    assert (response.status_code, response.json()) == (201, {"email": "a@b.c", "age": 3})


def test_a_form_posted_to_a_typed_body_is_a_415(address):
    response = httpx.post(f"http://{address}/signups", data={"email": "a@b.c"})
    assert response.status_code == 415


def test_websocket_refused_by_a_guard_is_a_rejected_handshake(address):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://{address}/guarded", open_timeout=10)
    assert refused.value.response.status_code == 403
    with connect(f"ws://{address}/guarded?ticket=ok") as socket:
        assert socket.recv(timeout=10) == "welcome"
