"""Route handlers that send events: timing relative to the response, payload, ids."""

import threading

import anyio
import msgspec
import pytest

from ravyn.app import Ravyn
from ravyn.events import Event, Registry, observable, use_registry
from ravyn.exceptions import HTTPException
from ravyn.routing import post
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)


class Account(msgspec.Struct):
    email: str
    user_id: int


def build_app(timeline: list, received: list, **app_options) -> Ravyn:
    """Routes in both decorator orders; a listener that records when it ran."""
    with use_registry(Registry()):

        @post("/register")
        @observable(send=["user_registered"])
        async def register(email: str) -> Account:
            if email == "taken@example.com":
                raise HTTPException(409, "Email taken")
            return Account(email=email, user_id=7)

        @observable(send=["order_paid"], wait=True)
        @post("/pay")
        async def pay(order_id: int) -> dict:
            return {"order_id": order_id}

        @post("/sync")
        @observable(send=["sync_done"])
        def sync_handler(value: int) -> dict:
            return {"value": value}

        @observable(listen=["user_registered", "order_paid", "sync_done"])
        async def record(event: Event) -> None:
            timeline.append(f"listener {event.name}")
            received.append(event)

        app = Ravyn(routes=[register, pay, sync_handler], **app_options)

    async def recording_app(scope, receive, send):
        async def recording_send(message):
            if message["type"] == "http.response.body":
                timeline.append("response sent")
            await send(message)

        await app(scope, receive, recording_send)

    recording_app.events = app.events  # type: ignore[attr-defined]
    return recording_app  # type: ignore[return-value]


def test_default_route_emits_after_the_response_is_sent():
    timeline, received = [], []
    app = build_app(timeline, received)
    with TestClient(app) as client:
        response = client.post("/register", json={"email": "ada@example.com"})
        client.wait_idle()
    assert response.status_code == 201
    assert timeline == ["response sent", "listener user_registered"]


def test_wait_true_runs_listeners_before_the_response():
    timeline, received = [], []
    with TestClient(build_app(timeline, received)) as client:
        assert client.post("/pay", json={"order_id": 3}).json() == {"order_id": 3}
    assert timeline == ["listener order_paid", "response sent"]


def test_app_setting_makes_routes_wait_by_default():
    timeline, received = [], []
    with TestClient(build_app(timeline, received, wait_for_listeners=True)) as client:
        client.post("/register", json={"email": "ada@example.com"})
    assert timeline == ["listener user_registered", "response sent"]


def test_no_event_when_the_handler_raises():
    timeline, received = [], []
    app = build_app(timeline, received)
    with TestClient(app) as client:
        response = client.post("/register", json={"email": "taken@example.com"})
        client.wait_idle()
    assert response.json() == {"detail": "Email taken"}
    assert received == []
    assert app.events.metrics.for_event("user_registered").emitted == 0


def test_payload_is_the_return_value_before_serialization_with_route_source():
    timeline, received = [], []
    app = build_app(timeline, received, wait_for_listeners=True)
    with TestClient(app) as client:
        client.post("/register", json={"email": "ada@example.com"})
    [event] = received
    assert event.payload == Account(email="ada@example.com", user_id=7)
    assert event.source == "POST /register"


def test_correlation_id_is_the_request_id():
    timeline, received = [], []
    app = build_app(timeline, received, wait_for_listeners=True)
    with TestClient(app) as client:
        given = client.post(
            "/register", json={"email": "a@example.com"}, headers={"x-request-id": "req-42"}
        )
        made = client.post("/register", json={"email": "b@example.com"})
    assert given.headers["x-request-id"] == "req-42"
    assert received[0].headers["correlation-id"] == "req-42"
    assert received[1].headers["correlation-id"] == made.headers["x-request-id"]


def test_the_requests_traceparent_travels_with_its_events():
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    timeline, received = [], []
    app = build_app(timeline, received, wait_for_listeners=True)
    with TestClient(app) as client:
        client.post("/register", json={"email": "a@b.c"}, headers={"traceparent": traceparent})
        client.post("/register", json={"email": "d@e.f"})
        client.post("/register", json={"email": "g@h.i"}, headers={"traceparent": "x\tforged"})
    assert received[0].headers["traceparent"] == traceparent
    assert "traceparent" not in received[1].headers  # none given, none invented
    assert "traceparent" not in received[2].headers  # not a W3C traceparent: not passed on


def test_sync_handler_sends_its_return_value():
    timeline, received = [], []
    with TestClient(build_app(timeline, received, wait_for_listeners=True)) as client:
        client.post("/sync", json={"value": 5})
    assert [(event.name, event.payload) for event in received] == [("sync_done", {"value": 5})]


def test_route_senders_appear_in_the_catalogue():
    app = build_app([], [])
    events = {entry["name"]: entry for entry in app.events.catalogue()["events"]}
    [listener] = events["user_registered"]["listeners"]
    assert listener.endswith("test_observable_routes:build_app.<locals>.record")
    assert events["order_paid"]["senders"]


def gated_listener_app(release: threading.Event | None, done: list) -> Ravyn:
    """A route whose listener finishes once ``release`` is set (None: only when cancelled)."""
    with use_registry(Registry()):

        @post("/slow")
        @observable(send=["slow_work"])
        async def slow() -> dict:
            return {}

        @observable(listen=["slow_work"])
        async def gated() -> None:
            if release is None:
                await anyio.sleep(30)
            await anyio.to_thread.run_sync(release.wait)
            done.append("finished")

        return Ravyn(routes=[slow], grace_period=0.1)


def test_test_client_wait_idle_returns_once_the_listeners_finished():
    release, done = threading.Event(), []
    with TestClient(gated_listener_app(release, done)) as client:
        assert client.post("/slow").status_code == 201
        assert done == []  # the response did not wait for the listener
        release.set()
        client.wait_idle()
        assert done == ["finished"]


def test_test_client_wait_idle_fails_after_its_timeout():
    with TestClient(gated_listener_app(None, [])) as client:
        client.post("/slow")
        with pytest.raises(TimeoutError):
            client.wait_idle(timeout=0.05)
