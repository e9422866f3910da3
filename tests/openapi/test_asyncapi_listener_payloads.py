"""The payload of an event no sender types (trigger_event, an unannotated job or route) is
described by what its listeners bind; the document still validates against AsyncAPI 3.0."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import msgspec
import pytest

from ravyn import Event, Ravyn, observable, post, trigger_event
from ravyn.asyncapi import asyncapi_document
from ravyn.contrib.schedulers.asyncz import scheduler
from ravyn.events import Registry, use_registry
from ravyn.events.envelope import new_event_id
from ravyn.events.errors import ListenerBindingError
from ravyn.testclient import TestClient
from tests.openapi.test_asyncapi_document import official_schema


class Money(msgspec.Struct):
    amount: int
    currency: str


@dataclasses.dataclass
class Refund:
    order_id: int
    note: str = ""


class Receipt(msgspec.Struct):
    number: int


with use_registry(Registry()) as registry:

    @post("/refunds")
    async def refund(order_id: int) -> dict:
        money = {"amount": 5, "currency": "EUR"}
        await trigger_event("refund.issued", {"order_id": order_id, "money": money}, wait=True)
        return {}

    @post("/orders")
    @observable(send=["order.placed"])
    async def place_order(email: str) -> dict:  # a dict says nothing of its fields
        return {"email": email}

    @scheduler(name="nightly", cron="0 2 * * *")
    @observable(send=["totals.ready"])
    async def nightly():  # no annotation at all
        return {"day": "monday"}

    @observable(send=["receipt.sent"])
    async def typed_receipt() -> Receipt:
        return Receipt(number=1)

    @observable(send=["receipt.sent"])
    async def untyped_receipt():
        return {"number": 2}

    @observable(listen=["refund.issued"])
    async def credit(order_id: int, money: Money) -> None:
        pass

    @observable(listen=["refund.*"])
    async def log_refund(event: Event, order_id: str | int, reason: str = "asked") -> None:
        pass

    @observable(listen=["refund.issued"])
    async def archive(payload: Refund) -> None:
        pass

    @observable(listen=["order.placed"])
    async def welcome(email: str, referrer: str | None = None) -> None:
        pass

    @observable(listen=["totals.ready"])
    async def count(day: str) -> None:
        pass

    @observable(listen=["receipt.sent"])
    async def file_receipt(number: int) -> None:
        pass

    @observable(listen=["totals.ready", "refund.issued"])
    async def everything(event: Event) -> None:
        pass

    app = Ravyn(routes=[refund, place_order], title="Refunds", version="1.0")

DOCUMENT = asyncapi_document(app)
MESSAGES = DOCUMENT["components"]["messages"]
SCHEMAS = DOCUMENT["components"]["schemas"]


def test_the_document_validates_against_the_official_asyncapi_3_schema():
    assert list(jsonschema.Draft7Validator(official_schema()).iter_errors(DOCUMENT)) == []


def test_an_untyped_route_is_described_by_its_listeners_fields():
    assert MESSAGES["order.placed"]["payload"] == {
        "type": "object",
        "properties": {
            "email": {"type": "string"},
            "referrer": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["email"],
    }
    assert "no sender declares its type" in MESSAGES["order.placed"]["summary"]


def test_an_unannotated_scheduled_job_is_described_by_its_listeners():
    # `everything` takes the envelope only: it requires nothing of the payload
    assert MESSAGES["totals.ready"]["payload"] == {
        "type": "object",
        "properties": {"day": {"type": "string"}},
        "required": ["day"],
    }


def test_listeners_that_differ_are_combined_into_what_every_one_of_them_binds():
    payload = MESSAGES["refund.issued"]["payload"]
    fields, archived = payload["allOf"]
    assert archived == {"$ref": "#/components/schemas/Refund"}
    assert fields["required"] == ["order_id", "money"]  # `reason` has a default
    assert fields["properties"] == {
        "order_id": {
            "allOf": [{"type": "integer"}, {"anyOf": [{"type": "string"}, {"type": "integer"}]}]
        },
        "money": {"$ref": "#/components/schemas/Money"},
        "reason": {"type": "string"},  # a listener's default is its own: none shown
    }
    assert SCHEMAS["Money"]["required"] == ["amount", "currency"]


def test_a_typed_sender_keeps_its_type_beside_an_untyped_one():
    assert MESSAGES["receipt.sent"]["payload"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/Receipt"},
            {
                "type": "object",
                "properties": {"number": {"type": "integer"}},
                "required": ["number"],
            },
        ]
    }


def _binds_for_every_listener(name: str, payload: Any) -> bool:
    event = Event(name=name, payload=payload, id=new_event_id(), emitted_at=datetime.now(UTC))
    for listener in registry.listeners_for(name):
        try:
            listener.binding.invoke(event).close()  # bound: the coroutine is never run
        except ListenerBindingError:
            return False
    return True


@pytest.mark.parametrize(
    "payload",
    [
        {"order_id": 7, "money": {"amount": 5, "currency": "EUR"}},
        {"order_id": 7, "money": {"amount": 5, "currency": "EUR"}, "reason": "late", "x": 1},
        {"order_id": 7, "money": {"amount": 5}},  # Money lacks its currency
        {"order_id": "7", "money": {"amount": 5, "currency": "EUR"}},  # credit wants an int
        {"money": {"amount": 5, "currency": "EUR"}},
        {"order_id": 7, "money": {"amount": 5, "currency": "EUR"}, "reason": 3},
        [7],
    ],
)
def test_the_schema_accepts_exactly_the_payloads_every_listener_binds(payload):
    schema = {**MESSAGES["refund.issued"]["payload"], "components": DOCUMENT["components"]}
    valid = jsonschema.Draft7Validator(schema).is_valid(payload)
    assert valid == _binds_for_every_listener("refund.issued", payload)


def test_the_payload_is_described_before_and_after_trigger_event_emitted_it():
    client = TestClient(app)
    assert client.post("/refunds", params={"order_id": 7}).status_code == 201
    after = client.get("/asyncapi.json").json()  # DOCUMENT was made before any emit
    payload = after["components"]["messages"]["refund.issued"]["payload"]
    assert payload == MESSAGES["refund.issued"]["payload"]
    senders = {op["x-sender"] for op in after["operations"].values() if op["action"] == "send"}
    assert "(emitted at runtime)" in senders
    assert list(jsonschema.Draft7Validator(official_schema()).iter_errors(after)) == []
    page = client.get("/docs/events").text
    assert "<code>money</code>: Money" in page
    assert "<code>order_id</code>: integer &amp; string | integer" in page
    assert "<code>note</code>: string (optional)" in page  # a field of Refund


def test_listeners_that_bind_nothing_leave_the_payload_any_value():
    with use_registry(Registry()):

        @observable(listen=["ping"])
        async def pong(event: Event) -> None:
            pass

        @observable(listen=["ping"])
        async def count_pings() -> None:
            pass

        document = asyncapi_document(Ravyn())
    message = document["components"]["messages"]["ping"]
    assert message["payload"] == {}
    assert "return value" in message["summary"]
    assert json.loads(json.dumps(document)) == document
