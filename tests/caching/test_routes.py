"""@cache under a route decorator: the handler's data is cached, responses are built as usual."""

import pytest

from ravyn.app import Ravyn
from ravyn.core.caches.memory import InMemoryCache
from ravyn.exceptions import NotFound
from ravyn.routing import get
from ravyn.testclient import TestClient
from ravyn.utils.decorators import cache

pytestmark = pytest.mark.timeout(20)


def test_path_and_query_arguments_select_entries_and_errors_are_not_cached():
    backend = InMemoryCache()
    calls: list[tuple[int, str]] = []
    stock = {1: 5}

    @get("/products/{product_id}")
    @cache(ttl=60, backend=backend)
    async def product(product_id: int, currency: str = "EUR") -> dict:
        calls.append((product_id, currency))
        if product_id not in stock:
            raise NotFound(f"no product {product_id}")
        return {"id": product_id, "currency": currency, "stock": stock[product_id]}

    with TestClient(Ravyn(routes=[product])) as client:
        first = client.get("/products/1")
        again = client.get("/products/1")
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json() == {"id": 1, "currency": "EUR", "stock": 5}
        assert first.headers["content-type"] == again.headers["content-type"]
        assert client.get("/products/1?currency=USD").json()["currency"] == "USD"

        assert client.get("/products/2").status_code == 404
        stock[2] = 7
        assert client.get("/products/2").json()["stock"] == 7
    assert calls == [(1, "EUR"), (1, "USD"), (2, "EUR"), (2, "EUR")]


def test_sync_handler_is_cached_from_the_threadpool():
    backend = InMemoryCache()
    calls = []

    @get("/report")
    @cache(backend=backend)
    def report() -> dict:
        calls.append(1)
        return {"rows": len(calls)}

    with TestClient(Ravyn(routes=[report])) as client:
        assert client.get("/report").json() == {"rows": 1}
        assert client.get("/report").json() == {"rows": 1}
    assert calls == [1]
