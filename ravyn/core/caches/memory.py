"""A per-process cache: entries expire after their TTL and the least recently used go first."""

from __future__ import annotations

import threading
from collections import OrderedDict
from time import monotonic
from typing import Any

from ravyn.core.caches.base import check_ttl


class InMemoryCache:
    """A bounded LRU dictionary with per-entry expiry.

    Values are stored as they are (not copied): mutating a cached object mutates the
    cache. Expired entries are dropped when read, and otherwise make way for new ones
    like any least recently used entry, so memory stays bounded by `max_size`.
    The methods are coroutines to share the `CacheBackend` protocol with remote
    backends; none of them ever suspends.
    """

    def __init__(self, max_size: int = 1024, default_ttl: float | None = None) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size!r}")
        self.max_size = max_size
        self.default_ttl = check_ttl(default_ttl)
        self._entries: OrderedDict[str, tuple[float | None, Any]] = OrderedDict()
        # Sync cached functions may reach the cache from several threads at once.
        self._lock = threading.Lock()

    async def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            expires_at, value = entry
            if expires_at is not None and expires_at <= monotonic():
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return value

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        ttl = self.default_ttl if ttl is None else check_ttl(ttl)
        expires_at = None if ttl is None else monotonic() + ttl
        with self._lock:
            self._entries[key] = (expires_at, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    async def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """Entries held, expired ones not yet dropped included."""
        return len(self._entries)
