"""The Controllers page's sample, served by a real uvicorn and called over the network."""

import time

import httpx
import pytest
from openapi_spec_validator import validate

from tests.web.helpers import load_docs_module, serve

pytestmark = pytest.mark.timeout(60)

KEY = {"x-api-key": "s3cret"}


def test_the_user_api_on_a_real_server():
    module = load_docs_module("docs_src/controllers/user_api.py")
    with serve(module.app) as address:
        base = f"http://{address}/api/v1/users"
        refused = httpx.get(base)
        assert (refused.status_code, refused.json()) == (
            401,
            {"detail": "Send a valid X-API-Key header."},
        )
        listed = httpx.get(base, headers={**KEY, "x-caller": "billing"})
        assert listed.json() == [{"id": 1, "email": "ada@example.com", "name": "Ada"}]
        assert listed.headers["x-served-by"] == "UserApi for billing"
        missing = httpx.get(f"{base}/9", headers=KEY)
        assert (missing.status_code, missing.json()) == (404, {"detail": "No user 9"})
        created = httpx.post(base, json={"email": "bob@example.com", "name": "Bob"}, headers=KEY)
        assert created.status_code == 201
        assert created.json() == {
            "id": 2,
            "email": "bob@example.com",
            "name": "Bob",
            "url": "/api/v1/users/2",
        }
        fetched = httpx.get(f"http://{address}{created.json()['url']}", headers=KEY)
        assert fetched.json()["name"] == "Bob"
        deadline = time.monotonic() + 5
        while module.welcomed != ["bob@example.com"]:  # the listener runs after the response
            assert time.monotonic() < deadline, module.welcomed
            time.sleep(0.01)
        deleted = httpx.delete(f"{base}/2", headers=KEY)
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert httpx.get(f"{base}/2", headers=KEY).status_code == 404
    assert module.app.url_for("UserApi.get_user", user_id=7) == "/api/v1/users/7"


def test_controller_methods_appear_in_the_openapi_document_like_functions():
    module = load_docs_module("docs_src/controllers/user_api.py")
    with serve(module.app) as address:
        document = httpx.get(f"http://{address}/openapi.json").json()
    validate(document)
    operations = {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }
    assert sorted(operations) == [
        ("delete", "/api/v1/users/{user_id}"),
        ("get", "/api/v1/users"),
        ("get", "/api/v1/users/{user_id}"),
        ("post", "/api/v1/users"),
    ]
    assert {operation["operationId"] for operation in operations.values()} == {
        "UserApi.list_users",
        "UserApi.get_user",
        "UserApi.create_user",
        "UserApi.delete_user",
    }
    assert all(operation["tags"] == ["users"] for operation in operations.values())
    get_user = operations[("get", "/api/v1/users/{user_id}")]
    assert [(p["name"], p["in"], p["schema"]) for p in get_user["parameters"]] == [
        ("user_id", "path", {"type": "integer"})
    ]  # self is not a parameter; the dependencies are not either
    create = operations[("post", "/api/v1/users")]
    assert create["x-events"] == ["user_created"]
    assert "requestBody" in create
