"""Rate-limit budgets in Redis, shared by every process of a cluster.

One Lua script decides each call, so reading a key's state and taking a call from it is a
single atomic step on the server: two processes can never both take the last call of a
budget. The clock is the Redis server's (``TIME``), so the processes' own clocks do not
matter.

A client belongs to the event loop that made it. It is opened on first use and closed when
the bus of the app using it stops (the app's lifespan shutdown), so no connection outlives
the app; a later use opens a new one.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ravyn.events.context import current_bus
from ravyn.resilience.rates import Rate

# KEYS[1] the key; ARGV[1] the interval between calls, ARGV[2] the period (microseconds).
# Returns 0 when the call is taken, else the microseconds until the next one would be.
GCRA = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000000 + tonumber(now[2])
local interval = tonumber(ARGV[1])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
local early = arrival - now - (tonumber(ARGV[2]) - interval)
if early > 0 then return early end
arrival = arrival + interval
redis.call('SET', KEYS[1], string.format('%d', arrival), 'PX', math.ceil((arrival - now) / 1000))
return 0
"""


class RedisBackend:
    """Keys are ``ravyn:ratelimit:<limiter>:<rate>:<key>``; each expires when its budget is
    whole again. Needs the ``redis`` extra."""

    def __init__(self, url: str, *, prefix: str = "ravyn:ratelimit:") -> None:
        try:
            import redis.asyncio  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                'RateLimiter(backend="redis://...") needs redis-py: '
                'install ravyn with its "redis" extra.'
            ) from exc
        self.url = url
        self.prefix = prefix
        self._loop: asyncio.AbstractEventLoop | None = None
        self._script: Any = None

    async def hit(self, key: str, rate: Rate) -> float:
        script = self._script
        if script is None or self._loop is not asyncio.get_running_loop():
            script = self._connect()  # a client belongs to the loop that made it
        waiting = await script(
            keys=[self.prefix + key],
            args=[round(rate.interval * 1_000_000), round(rate.period * 1_000_000)],
        )
        return int(waiting) / 1_000_000

    def _connect(self) -> Any:
        import redis.asyncio as redis

        client = redis.Redis.from_url(self.url)
        self._loop = asyncio.get_running_loop()
        self._script = script = client.register_script(GCRA)
        current_bus().close_on_stop(lambda: self._close(script))
        return script

    async def _close(self, script: Any) -> None:
        if self._script is script:
            self._script = None  # the next call opens a new client
        await script.registered_client.aclose()
