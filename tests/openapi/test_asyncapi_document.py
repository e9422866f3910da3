"""The AsyncAPI document of the app's events, validated against the official 3.0.0 schema
(the npm package @asyncapi/specs, fetched by scripts/setup.sh into .cache/npm)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import msgspec
import pytest

from ravyn import Event, Ravyn, observable, post
from ravyn.asyncapi import asyncapi_document
from ravyn.events import Registry, use_registry
from ravyn.events.listener import listener_name
from ravyn.testclient import TestClient

SPECS = Path(__file__).parents[2] / ".cache/npm/node_modules/@asyncapi/specs/schemas"


class Registered(msgspec.Struct):
    email: str
    user_id: int
    referrer: str | None = None


class Invoice(msgspec.Struct):
    number: int
    total: float


with use_registry(Registry()) as registry:

    @post("/register")
    @observable(send=["user.registered"])
    async def register(email: str) -> Registered:
        return Registered(email=email, user_id=1)

    @observable(send=["invoice.sent", "audit"])
    async def send_invoice(number: int) -> Invoice:
        return Invoice(number=number, total=10.0)

    @observable(listen=["user.registered"])
    async def welcome(email: str) -> None:
        pass

    @observable(listen=["user.*"], broadcast=True)
    async def push_to_browsers(event: Event) -> None:
        pass

    @observable(listen=["invoice.sent"])
    async def archive(number: int, total: float) -> None:
        pass

    @observable(listen=["never.sent"])
    async def waiting(event: Event) -> None:
        pass

    app = Ravyn(routes=[register], title="Shop", version="3.1")

DOCUMENT = asyncapi_document(app)
SENDERS = {
    f"{__name__}:register",
    f"{__name__}:send_invoice",
}
LISTENERS = {f"{__name__}:{name}" for name in ("welcome", "push_to_browsers", "archive", "waiting")}


def official_schema() -> dict:
    path = SPECS / "3.0.0-without-$id.json"
    if not path.is_file():
        message = "the AsyncAPI 3.0.0 schema is fetched by scripts/setup.sh (npm @asyncapi/specs)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return json.loads(path.read_text())


def test_the_document_validates_against_the_official_asyncapi_3_schema():
    validator = jsonschema.Draft7Validator(official_schema())
    assert list(validator.iter_errors(DOCUMENT)) == []
    broken = json.loads(json.dumps(DOCUMENT))
    next(iter(broken["operations"].values()))["action"] = "publish"  # an AsyncAPI 2 word
    assert list(validator.iter_errors(broken)), "the validator must refuse a wrong document"


def test_a_channel_per_event_and_per_wildcard_pattern():
    addresses = {channel["address"] for channel in DOCUMENT["channels"].values()}
    assert addresses == {"user.registered", "invoice.sent", "audit", "user.*", "never.sent"}
    wildcard = DOCUMENT["channels"]["user._"]
    assert list(wildcard["messages"]) == ["user.registered"]


def test_every_sender_and_listener_is_an_operation():
    operations = DOCUMENT["operations"].values()
    sent = {op["x-sender"] for op in operations if op["action"] == "send"}
    received = {op["x-listener"] for op in operations if op["action"] == "receive"}
    assert sent == SENDERS and received == LISTENERS
    route_send = next(op for op in operations if op.get("x-route"))
    assert route_send["x-route"] == "POST /register"
    assert route_send["channel"] == {"$ref": "#/channels/user.registered"}


def test_listeners_carry_their_scope():
    scopes = {
        op["x-listener"].rpartition(":")[2]: op["x-scope"]
        for op in DOCUMENT["operations"].values()
        if op["action"] == "receive"
    }
    assert scopes["push_to_browsers"] == "broadcast"
    assert scopes["welcome"] == scopes["archive"] == "once-per-cluster"


def test_payloads_are_the_senders_return_types():
    messages = DOCUMENT["components"]["messages"]
    assert messages["user.registered"]["payload"] == {"$ref": "#/components/schemas/Registered"}
    assert messages["invoice.sent"]["payload"] == {"$ref": "#/components/schemas/Invoice"}
    assert messages["never.sent"]["payload"] == {}  # nothing declares what it carries
    schema = DOCUMENT["components"]["schemas"]["Registered"]
    assert schema["required"] == ["email", "user_id"]
    headers = messages["audit"]["headers"]["properties"]
    assert set(headers) == {"correlation-id", "causation-id", "traceparent"}


class Shipped(msgspec.Struct):
    parcel: str


def test_a_sender_defined_inside_a_function_describes_its_payload():
    def make_sender():
        @observable(send=["parcel.shipped"])
        async def ship(parcel: str) -> Shipped:
            return Shipped(parcel=parcel)

        return ship

    with use_registry(Registry()):
        make_sender()
        document = asyncapi_document(Ravyn())
    message = document["components"]["messages"]["parcel.shipped"]
    assert message["payload"] == {"$ref": "#/components/schemas/Shipped"}
    assert document["components"]["schemas"]["Shipped"]["required"] == ["parcel"]


def test_what_is_wired_after_the_first_request_is_in_the_document_and_the_page():
    with use_registry(Registry()):
        served = Ravyn()
        client = TestClient(served)
        assert client.get("/asyncapi.json").json()["channels"] == {}

        @post("/parcels")
        @observable(send=["parcel.shipped"])
        async def ship(parcel: str) -> Shipped:
            return Shipped(parcel=parcel)

        served.add_route(ship)
        channels = client.get("/asyncapi.json").json()["channels"]
        assert list(channels) == ["parcel.shipped"]
        assert "POST /parcels" in client.get("/docs/events").text

        @observable(listen=["parcel.shipped"])
        async def track(parcel: str) -> None:
            pass

        operations = client.get("/asyncapi.json").json()["operations"].values()
        assert {op.get("x-listener") for op in operations} == {None, listener_name(track)}
        assert "track" in client.get("/docs/events").text


def test_servers_come_from_the_transport_without_credentials():
    with use_registry(registry):
        redis_app = Ravyn(routes=[register], event_transport="redis://:s3cret@10.0.0.5:6390/2")
        nats_app = Ravyn(event_transport="nats://user:pw@10.0.0.6:4222?prefix=shop")
    redis_doc = asyncapi_document(redis_app)
    assert redis_doc["servers"] == {
        "redis": {"host": "10.0.0.5:6390", "protocol": "redis", "pathname": "/2"}
    }
    assert "s3cret" not in json.dumps(redis_doc)
    assert redis_doc["channels"]["user.registered"]["x-redis-stream"] == "ravyn:user.registered"
    nats_doc = asyncapi_document(nats_app)
    assert nats_doc["servers"] == {"nats": {"host": "10.0.0.6:4222", "protocol": "nats"}}
    assert "pw@" not in json.dumps(nats_doc)
    channel = nats_doc["channels"]["invoice.sent"]
    assert channel["x-nats-subject"] == "shop.events.invoice.sent"
    validator = jsonschema.Draft7Validator(official_schema())
    assert list(validator.iter_errors(redis_doc)) == list(validator.iter_errors(nats_doc)) == []


def test_served_document_is_stable_and_the_events_page_lists_the_catalogue():
    client = TestClient(app)
    first = client.get("/asyncapi.json")
    assert first.status_code == 200
    assert first.content == client.get("/asyncapi.json").content
    assert first.content == msgspec.json.encode(asyncapi_document(app))
    page = client.get("/docs/events")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    text = page.text
    for expected in ("user.registered", "POST /register", "push_to_browsers", "broadcast"):
        assert expected in text
    assert "<code>user_id</code>: integer" in text
    assert "<code>referrer</code>: string | null (optional)" in text
    assert "http://" not in text and "https://" not in text  # nothing fetched from elsewhere
