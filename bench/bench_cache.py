"""Cache overhead: a cached hit against the call it saves, and InMemoryCache ops/s.

Baselines measured in the same run: a plain `dict` lookup; the same lookup behind an
awaited coroutine (the floor for any async cache API, which `CacheBackend` is);
`functools.lru_cache` (stdlib, sync, no TTL); and the function called uncached (with a
1 ms "database" wait, the kind of call a cache is for). Bounded to a few seconds.
Run: .venv/bin/python bench/bench_cache.py
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import time
from collections.abc import Awaitable, Callable

from ravyn.core.caches.decorator import cache
from ravyn.core.caches.memory import InMemoryCache

ROUNDS = 5


def best_rate(run: Callable[[], float]) -> float:
    """Median operations per second over ROUNDS runs."""
    return statistics.median(run() for _ in range(ROUNDS))


def sync_rate(operation: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        operation()
    return count / (time.perf_counter() - start)


def async_rate(operation: Callable[[], Awaitable[object]], count: int) -> float:
    async def loop() -> float:
        start = time.perf_counter()
        for _ in range(count):
            await operation()
        return count / (time.perf_counter() - start)

    return asyncio.run(loop())


def main() -> None:
    backend = InMemoryCache(max_size=10_000)
    plain: dict[str, int] = {"k": 1}

    async def fetch_products() -> dict:
        await asyncio.sleep(0.001)
        return {"products": [1, 2, 3]}

    cached_products = cache(ttl=600, backend=backend)(fetch_products)

    @cache(ttl=600, backend=backend)
    async def price(product_id: int, currency: str = "EUR") -> float:
        return 1.0

    @cache(ttl=600, backend=backend)
    def sync_total() -> int:
        return 5

    @functools.lru_cache(maxsize=10_000)
    def lru_total() -> int:
        return 5

    async def async_dict_get(key: str) -> int | None:
        return plain.get(key)

    asyncio.run(backend.set("k", 1))
    rows = [
        ("dict get (floor)", best_rate(lambda: sync_rate(lambda: plain.get("k"), 200_000))),
        (
            "await async dict get (async floor)",
            best_rate(lambda: async_rate(lambda: async_dict_get("k"), 100_000)),
        ),
        ("InMemoryCache.get", best_rate(lambda: async_rate(lambda: backend.get("k"), 100_000))),
        (
            "InMemoryCache.set",
            best_rate(lambda: async_rate(lambda: backend.set("k", 1, ttl=60), 100_000)),
        ),
        ("uncached call (1 ms db)", best_rate(lambda: async_rate(fetch_products, 200))),
        ("@cache hit, no arguments", best_rate(lambda: async_rate(cached_products, 50_000))),
        ("@cache hit, 2 arguments", best_rate(lambda: async_rate(lambda: price(7, "USD"), 50_000))),
        ("functools.lru_cache hit (sync)", best_rate(lambda: sync_rate(lru_total, 200_000))),
        ("@cache hit, sync fn, no loop", best_rate(lambda: sync_rate(sync_total, 2_000))),
    ]
    figures = dict(rows)
    print(f"{'operation':36} {'ops/s':>14}")
    for name, rate in rows:
        print(f"{name:36} {rate:14,.0f}")
    print()
    print("ratios")
    print(
        f"  @cache hit vs uncached call:       "
        f"{figures['@cache hit, no arguments'] / figures['uncached call (1 ms db)']:8.1f}x faster"
    )
    print(
        f"  InMemoryCache.get vs async floor:  "
        f"{figures['InMemoryCache.get'] / figures['await async dict get (async floor)']:8.2f}x"
    )
    print(
        f"  @cache hit (2 args) vs no args:    "
        f"{figures['@cache hit, 2 arguments'] / figures['@cache hit, no arguments']:8.2f}x"
    )


if __name__ == "__main__":
    main()
