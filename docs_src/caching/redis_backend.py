import os

from ravyn.core.caches.redis import RedisCache
from ravyn.utils.decorators import cache

# Shared by every process of the app: one computation serves them all until the TTL ends.
cache_backend = RedisCache(
    url=os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
    prefix="shop:cache:",
)


@cache(ttl=600, backend=cache_backend)
async def best_sellers(limit: int = 10) -> list[dict]:
    return [{"sku": f"SKU-{rank}", "rank": rank} for rank in range(1, limit + 1)]
