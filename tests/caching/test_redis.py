import datetime

import anyio
import msgspec
import pytest
from redis.asyncio import Redis

from ravyn.core.caches.decorator import cache
from ravyn.core.caches.redis import RedisCache

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def backend(redis_url):
    cache_backend = RedisCache(url=redis_url, prefix="test:cache:")
    await cache_backend.clear()
    yield cache_backend
    await cache_backend.clear()
    await cache_backend.aclose()


async def test_values_round_trip_through_msgspec(backend):
    when = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC)
    await backend.set("k", {"products": [1, 2], "when": when, "raw": b"\x00\x01"})
    assert await backend.get("k") == {"products": [1, 2], "when": when, "raw": b"\x00\x01"}
    assert await backend.get("missing", "default") == "default"


async def test_struct_values_come_back_as_dicts(backend):
    class Product(msgspec.Struct):
        name: str
        price: float

    await backend.set("p", Product("pen", 1.5))
    assert await backend.get("p") == {"name": "pen", "price": 1.5}


async def test_ttl_is_enforced_by_redis(backend, redis_url):
    await backend.set("short", 1, ttl=0.3)
    async with Redis.from_url(redis_url) as raw:
        assert 0 < await raw.pttl("test:cache:short") <= 300
    await anyio.sleep(0.35)  # Redis expires it on its own clock: nothing to wait on
    assert await backend.get("short") is None


async def test_delete_and_clear_touch_only_the_prefix(backend, redis_url):
    async with Redis.from_url(redis_url) as raw:
        await raw.set("someone-else", "keep")
        await backend.set("a", 1)
        await backend.set("b", 2)
        await backend.delete("a")
        assert await backend.get("a") is None
        assert await backend.get("b") == 2
        await backend.clear()
        assert await backend.get("b") is None
        assert await raw.get("someone-else") == b"keep"
        await raw.delete("someone-else")


async def test_clear_handles_more_keys_than_one_batch(backend):
    for index in range(1200):
        await backend.set(f"k{index}", index)
    await backend.clear()
    assert await backend.client.keys("test:cache:*") == []


async def test_prefix_with_glob_characters_is_matched_literally(redis_url):
    odd = RedisCache(url=redis_url, prefix="odd[1]*:")
    other = RedisCache(url=redis_url, prefix="odd1x:")
    try:
        await odd.set("k", 1)
        await other.set("k", 2)
        await odd.clear()
        assert await odd.get("k") is None
        assert await other.get("k") == 2
    finally:
        await other.clear()
        await odd.aclose()
        await other.aclose()


async def test_shared_client_is_not_closed(redis_url):
    async with Redis.from_url(redis_url) as client:
        shared = RedisCache(client=client, prefix="shared:")
        await shared.set("k", "v")
        await shared.aclose()
        assert await shared.get("k") == "v"
        await shared.clear()


async def test_client_with_decoded_responses_is_refused(redis_url):
    client = Redis.from_url(redis_url, decode_responses=True)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisCache(client=client)
    await client.aclose()


def test_url_or_client_is_required():
    with pytest.raises(ValueError, match="exactly one"):
        RedisCache()


async def test_decorator_with_redis_is_shared_between_backends(backend, redis_url):
    calls = []

    @cache(ttl=60, backend=backend)
    async def get_products() -> dict:
        calls.append(1)
        return {"products": ["pen"]}

    assert await get_products() == {"products": ["pen"]}
    assert await get_products() == {"products": ["pen"]}
    assert calls == [1]
    # Another process would see the same entry under the documented key.
    other_process_view = RedisCache(url=redis_url, prefix="test:cache:")
    assert await other_process_view.get("get_products") == {"products": ["pen"]}
    await other_process_view.delete("get_products")
    await other_process_view.aclose()
    await get_products()
    assert calls == [1, 1]


async def test_sync_function_in_a_worker_thread_uses_redis_through_the_loop(backend):
    calls = []

    @cache(ttl=60, backend=backend)
    def report(day: str) -> dict:
        calls.append(day)
        return {"day": day}

    assert await anyio.to_thread.run_sync(report, "mon") == {"day": "mon"}
    assert await anyio.to_thread.run_sync(report, "mon") == {"day": "mon"}
    assert calls == ["mon"]
