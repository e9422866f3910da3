"""An app with ``event_transport=<url>``: route events travel through a real Redis."""

import threading

import pytest

from ravyn.app import Ravyn
from ravyn.events import Event, Registry, observable, use_registry
from ravyn.routing import post
from ravyn.settings import RavynSettings
from ravyn.testclient import TestClient
from tests.support.servers import RedisServer

pytestmark = pytest.mark.timeout(60)


def test_transport_url_builds_a_transport_with_the_settings_secret(monkeypatch):
    monkeypatch.delenv("RAVYN_EVENT_SECRET", raising=False)
    app = Ravyn(
        event_transport="redis://127.0.0.1:6390/0",
        settings=RavynSettings(event_secret="s3cret"),
    )
    assert type(app.events.transport).__name__ == "RedisTransport"
    assert app.events.transport.codec.signer is not None  # events are signed with it
    assert Ravyn(event_transport="redis://127.0.0.1:6390/0").events.transport.codec.signer is None


def test_the_transport_comes_from_ravyn_event_transport(monkeypatch):
    monkeypatch.setenv("RAVYN_EVENT_TRANSPORT", "nats://127.0.0.1:4299")
    assert type(Ravyn().events.transport).__name__ == "NATSTransport"
    monkeypatch.delenv("RAVYN_EVENT_TRANSPORT")
    assert Ravyn().events.transport is None  # the in-memory bus stays the default


def test_route_event_is_delivered_back_through_redis(redis_server: RedisServer):
    delivered = threading.Event()
    received: list[Event] = []
    with use_registry(Registry()):

        @post("/orders")
        @observable(send=["order_placed"])
        async def place(sku: str) -> dict:
            return {"sku": sku}

        @observable(listen=["order_placed"])
        async def ship(event: Event) -> None:
            received.append(event)
            delivered.set()

        app = Ravyn(routes=[place], event_transport=redis_server.url)

    with TestClient(app) as client:
        response = client.post("/orders", json={"sku": "pen"}, headers={"x-request-id": "r-9"})
        assert response.status_code == 201
        assert delivered.wait(timeout=20)
    [event] = received
    assert (event.payload, event.source) == ({"sku": "pen"}, "POST /orders")
    assert event.headers["correlation-id"] == "r-9"
