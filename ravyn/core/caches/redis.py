"""A cache shared by every process that talks to one Redis server."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import msgspec

from ravyn.core.caches.base import check_ttl

if TYPE_CHECKING:
    from redis.asyncio import Redis

_GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")
_CLEAR_BATCH = 500


class RedisCache:
    """Entries live in Redis under `prefix + key`, encoded with msgspec (msgpack).

    Give either `url=` (the cache owns that connection; close it with `aclose()`) or an
    existing `client=` (a `redis.asyncio.Redis` made *without* `decode_responses`).
    Values come back as msgspec decodes them: dicts, lists, strings, numbers, bytes,
    datetimes; a Struct or dataclass comes back as a dict.
    `clear()` removes only the keys under `prefix`, never the rest of the database.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | None = None,
        prefix: str = "ravyn:cache:",
        default_ttl: float | None = None,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("RedisCache needs exactly one of url='redis://...' or client=")
        if client is None:
            try:
                from redis.asyncio import Redis
            except ImportError:
                raise ImportError(
                    "RedisCache needs the redis package: install ravyn with its 'redis' extra"
                ) from None
            client = Redis.from_url(url)
            self._owns_client = True
        else:
            if client.connection_pool.connection_kwargs.get("decode_responses"):
                raise ValueError(
                    "RedisCache stores binary msgpack values: give it a client made "
                    "without decode_responses=True"
                )
            self._owns_client = False
        self.client = client
        self.prefix = prefix
        self.default_ttl = check_ttl(default_ttl)
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder()

    async def get(self, key: str, default: Any = None) -> Any:
        raw = await self.client.get(self.prefix + key)
        return default if raw is None else self._decoder.decode(raw)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        ttl = self.default_ttl if ttl is None else check_ttl(ttl)
        expire_ms = None if ttl is None else max(1, round(ttl * 1000))
        await self.client.set(self.prefix + key, self._encoder.encode(value), px=expire_ms)

    async def delete(self, key: str) -> None:
        await self.client.delete(self.prefix + key)

    async def clear(self) -> None:
        pattern = _GLOB_SPECIALS.sub(r"\\\1", self.prefix) + "*"
        batch: list[bytes] = []
        async for name in self.client.scan_iter(match=pattern, count=_CLEAR_BATCH):
            batch.append(name)
            if len(batch) == _CLEAR_BATCH:
                await self.client.unlink(*batch)
                batch.clear()
        if batch:
            await self.client.unlink(*batch)

    async def aclose(self) -> None:
        """Close the connection pool if this cache opened it (`url=`)."""
        if self._owns_client:
            await self.client.aclose()
