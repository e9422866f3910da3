"""The Controllers page's sample, served by a real uvicorn and called over the network."""

import time

import httpx
import pytest

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
