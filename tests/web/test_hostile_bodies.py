"""Bad input is a 4xx, never a 500: a JSON body nested deeper than the decoder goes."""

from __future__ import annotations

import httpx
import pytest

from ravyn import Ravyn, post
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(60)

JSON = {"content-type": "application/json"}


@post("/items")
async def create_item(data: dict) -> dict:
    return {"keys": len(data)}


@post("/signup")
async def signup(email: str, tags: list) -> dict:  # body fields
    return {"email": email}


@pytest.mark.parametrize("depth", [1_000, 5_000, 30_000])
def test_a_deeply_nested_body_is_a_400_through_a_real_server(depth):
    nested = b"[" * depth + b"]" * depth
    with (
        serve(Ravyn(routes=[create_item, signup])) as address,
        httpx.Client(base_url=f"http://{address}") as client,
    ):
        whole = client.post("/items", content=b'{"a":' + nested + b"}", headers=JSON)
        field = client.post(
            "/signup", content=b'{"email":"a","tags":' + nested + b"}", headers=JSON
        )
        fine = client.post("/items", json={"a": [[[1]]]})
    for response in (whole, field):
        assert response.status_code == 400
        assert response.json()["detail"].startswith("The request body is nested too deeply")
    assert fine.json() == {"keys": 1}
