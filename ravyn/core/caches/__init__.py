"""Cache backends and the `cache` decorator.

`RedisCache` lives in `ravyn.core.caches.redis` and is not imported here, so that the
`redis` package stays an optional dependency.
"""

from ravyn.core.caches.base import CacheBackend, make_key
from ravyn.core.caches.decorator import cache, current_cache
from ravyn.core.caches.memory import InMemoryCache

__all__ = ["CacheBackend", "InMemoryCache", "cache", "current_cache", "make_key"]
