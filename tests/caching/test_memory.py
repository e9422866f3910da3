import pytest

from ravyn.core.caches.memory import InMemoryCache

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def clock(monkeypatch):
    """The cache's monotonic clock, moved by hand: expiry without waiting or flakiness."""

    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr("ravyn.core.caches.memory.monotonic", fake)
    return fake


async def test_get_returns_what_set_stored_and_default_on_miss():
    cache = InMemoryCache()
    await cache.set("a", {"x": 1})
    assert await cache.get("a") == {"x": 1}
    assert await cache.get("b") is None
    assert await cache.get("b", "fallback") == "fallback"


async def test_entry_expires_after_its_ttl(clock):
    cache = InMemoryCache()
    await cache.set("short", 1, ttl=5)
    await cache.set("long", 2, ttl=60)
    clock.now += 4.9
    assert await cache.get("short") == 1
    clock.now += 0.1
    assert await cache.get("short", "gone") == "gone"
    assert await cache.get("long") == 2
    assert len(cache) == 1  # the expired entry was dropped when read


async def test_default_ttl_applies_when_set_has_none(clock):
    cache = InMemoryCache(default_ttl=30)
    await cache.set("k", "v")
    await cache.set("explicit", "v", ttl=120)
    clock.now += 30
    assert await cache.get("k") is None
    assert await cache.get("explicit") == "v"


async def test_without_any_ttl_entries_never_expire(clock):
    cache = InMemoryCache()
    await cache.set("k", "v")
    clock.now += 10**9
    assert await cache.get("k") == "v"


async def test_size_is_bounded_and_least_recently_used_goes_first():
    cache = InMemoryCache(max_size=3)
    for key in "abc":
        await cache.set(key, key)
    assert await cache.get("a") == "a"  # "a" is now the most recently used
    await cache.set("d", "d")
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(key) for key in "acd"] == ["a", "c", "d"]


async def test_overwriting_a_key_does_not_grow_the_cache():
    cache = InMemoryCache(max_size=2)
    await cache.set("a", 1)
    await cache.set("a", 2)
    await cache.set("b", 3)
    assert len(cache) == 2
    assert await cache.get("a") == 2


async def test_delete_and_clear():
    cache = InMemoryCache()
    await cache.set("a", 1)
    await cache.set("b", 2)
    await cache.delete("a")
    await cache.delete("never-set")
    assert await cache.get("a") is None
    assert await cache.get("b") == 2
    await cache.clear()
    assert len(cache) == 0


async def test_none_is_a_value_not_a_miss():
    cache = InMemoryCache()
    await cache.set("nothing", None)
    assert await cache.get("nothing", "missing") is None


@pytest.mark.parametrize("ttl", [0, -1])
async def test_non_positive_ttl_is_refused_with_advice(ttl):
    cache = InMemoryCache()
    with pytest.raises(ValueError, match="positive number of seconds"):
        await cache.set("k", 1, ttl=ttl)


def test_max_size_must_be_positive():
    with pytest.raises(ValueError, match="max_size"):
        InMemoryCache(max_size=0)
