"""The samples of the "OpenAPI and Swagger UI" and "Event documentation" pages, run."""

import json

import pytest
from openapi_spec_validator import validate

from ravyn.testclient import TestClient
from tests.openapi.test_asyncapi_document import official_schema
from tests.web.helpers import load_docs_module

pytestmark = pytest.mark.timeout(30)


def test_shop_sample_documents_its_routes_and_its_security():
    client = TestClient(load_docs_module("docs_src/openapi/shop.py").app)
    document = client.get("/openapi.json").json()
    validate(document)
    assert document["info"] == {
        "title": "Shop API",
        "version": "1.2.0",
        "description": "Products and prices.",
    }
    create = document["paths"]["/products"]["post"]
    assert create["security"] == [{"apiKey": []}]
    assert document["components"]["securitySchemes"]["apiKey"]["in"] == "header"
    assert document["paths"]["/legacy/products"]["get"]["deprecated"] is True
    assert client.get("/docs").status_code == 200
    refused = client.post("/products", json={"name": "pen", "price": 1})
    assert refused.status_code == 401
    created = client.post(
        "/products", json={"name": "pen", "price": 1}, headers={"x-api-key": "s3cret"}
    )
    assert created.json() == {"name": "pen", "price": 1.0, "tags": []}


def test_events_sample_documents_its_events():
    import jsonschema

    module = load_docs_module("docs_src/openapi/events_app.py")
    client = TestClient(module.app)
    document = client.get("/asyncapi.json").json()
    assert list(jsonschema.Draft7Validator(official_schema()).iter_errors(document)) == []
    receives = {
        op["x-listener"].rpartition(":")[2]: op["x-scope"]
        for op in document["operations"].values()
        if op["action"] == "receive"
    }
    assert receives == {"send_receipt": "once-per-cluster", "refresh_dashboards": "broadcast"}
    payload = document["components"]["messages"]["order.placed"]["payload"]
    assert payload == {"$ref": "#/components/schemas/OrderPlaced"}
    page = client.get("/docs/events").text
    assert "order.placed" in page and "POST /orders" in page
    assert json.loads(client.get("/openapi.json").text)["paths"]["/orders"]["post"]["x-events"] == [
        "order.placed"
    ]


def test_untyped_senders_sample_describes_payloads_from_the_listeners():
    import jsonschema

    module = load_docs_module("docs_src/openapi/untyped_senders.py")
    client = TestClient(module.app)
    assert client.post("/refunds", params={"order_id": 3, "amount": 5}).status_code == 201
    document = client.get("/asyncapi.json").json()
    assert list(jsonschema.Draft7Validator(official_schema()).iter_errors(document)) == []
    messages = document["components"]["messages"]
    assert messages["refund.issued"]["payload"] == {
        "type": "object",
        "properties": {
            "order_id": {"type": "integer"},
            "money": {"$ref": "#/components/schemas/Money"},
            "reason": {"type": "string"},
        },
        "required": ["order_id", "money"],
    }
    assert document["components"]["schemas"]["Money"]["required"] == ["amount", "currency"]
    assert messages["totals.ready"]["payload"]["required"] == ["day", "orders"]
    page = client.get("/docs/events").text
    assert "<code>money</code>: Money" in page
    assert "<code>reason</code>: string (optional)" in page
