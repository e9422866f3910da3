"""The samples of docs/caching.md, run as written."""

import anyio
import pytest

from ravyn.core.caches.decorator import cache as cache_from_core
from ravyn.events.decorators import observable as observable_from_events
from ravyn.events.registry import Registry, use_registry

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(autouse=True)
def fresh_registry():
    with use_registry(Registry()) as registry:
        yield registry


def test_documented_import_path_reexports_the_decorators():
    from ravyn.utils.decorators import cache, observable

    assert cache is cache_from_core
    assert observable is observable_from_events


async def test_functions_sample(load_docs_src):
    sample = load_docs_src("caching/functions.py")

    assert await sample.rate("EUR", "USD") == 1.08
    assert await sample.rate("EUR", "USD") == 1.08
    assert len(sample.exchange_rates) == 1

    assert await sample.balance(7, include_pending=True) == 100
    assert await sample.exchange_rates.get("balance:7") == 100
    await sample.forget_balance(7)
    assert await sample.exchange_rates.get("balance:7") is None

    assert await anyio.to_thread.run_sync(sample.country_names) == ["France", "Portugal"]
    assert sample.country_names() == ["France", "Portugal"]
    assert await sample.exchange_rates.get("country_names") == ["France", "Portugal"]


async def test_redis_backend_sample(load_docs_src, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    sample = load_docs_src("caching/redis_backend.py")
    try:
        assert await sample.best_sellers(3) == [
            {"sku": "SKU-1", "rank": 1},
            {"sku": "SKU-2", "rank": 2},
            {"sku": "SKU-3", "rank": 3},
        ]
        [key] = await sample.cache_backend.client.keys("shop:cache:best_sellers:*")
        assert await sample.cache_backend.client.pttl(key) > 590_000
    finally:
        await sample.cache_backend.clear()
        await sample.cache_backend.aclose()


def test_products_sample_serves_from_cache_until_an_event_invalidates_it(load_docs_src):
    from ravyn.testclient import TestClient

    sample = load_docs_src("caching/products.py")
    with TestClient(sample.app) as client:
        assert client.get("/products").json() == {"products": [{"name": "pen", "price": 1.5}]}

        sample.products_db.append({"name": "ink", "price": 3.0})  # behind the cache's back
        assert client.get("/products").json() == {"products": [{"name": "pen", "price": 1.5}]}

        created = client.post("/products", json={"name": "pad", "price": 2.0})
        assert created.status_code == 201
        assert created.json() == {"created": True, "product": {"name": "pad", "price": 2.0}}
        client.wait_idle()  # the listener ran after the response
        names = [product["name"] for product in client.get("/products").json()["products"]]
    assert names == ["pen", "ink", "pad"]
