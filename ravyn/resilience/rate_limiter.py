"""Rate limiting per key (a client, a listener): ``limit`` calls per period, smoothly.

The algorithm is GCRA (a token bucket kept as one timestamp per key): a key may burst
``limit`` calls, then gets one more every ``period / limit`` seconds. Storing one number per
key is what lets the Redis backend decide in one atomic step for a whole cluster.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Protocol

from ravyn.resilience.policy import MUST_WAIT, Refused
from ravyn.resilience.rates import Rate, parse_rate


class RateLimitBackend(Protocol):
    """Where the per-key state lives. Implement ``hit`` atomically: two processes hitting
    the same key at once must never both take the last call of a budget."""

    async def hit(self, key: str, rate: Rate) -> float:
        """Take one call of ``key``'s budget: 0.0 when allowed, else the seconds until
        the next call would be (nothing is taken then)."""


class MemoryBackend:
    """One process's budgets: a ``Budget`` per limiter and rate."""

    def __init__(self, sweep_at: int = 10_000) -> None:
        self._budgets: dict[tuple[str, int, float], Budget] = {}
        self._sweep_at = sweep_at

    def budget(self, namespace: str, rate: Rate) -> Budget:
        """The budgets of ``namespace`` (a limiter's name) at ``rate``: uses of the same
        namespace and rate share them."""
        budgets = (namespace, rate.limit, rate.period)  # "10/s" and "10/second" are one rate
        budget = self._budgets.get(budgets)
        if budget is None:
            budget = self._budgets[budgets] = Budget(rate, self._sweep_at)
        return budget

    async def hit(self, key: str, rate: Rate) -> float:
        return self.budget("", rate).take(key)


class Budget:
    """Every key's budget at one rate, in a dict of each key's next arrival time (keys
    whose budget is whole again are swept as it grows)."""

    __slots__ = ("interval", "burst", "_arrivals", "_sweep_at")

    def __init__(self, rate: Rate, sweep_at: int) -> None:
        self.interval = rate.interval
        self.burst = rate.burst
        self._arrivals: dict[str, float] = {}
        self._sweep_at = sweep_at

    def take(self, key: str) -> float:
        """Take one call of ``key``'s budget: 0.0, or the seconds until the next call would
        be allowed (nothing is taken then)."""
        now = monotonic()
        arrival = self._arrivals.get(key)
        if arrival is None:  # a new key (or one swept): its budget is whole
            if len(self._arrivals) >= self._sweep_at:
                self._sweep(now)
            arrival = now
        elif arrival < now:
            arrival = now
        else:
            early = arrival - now - self.burst  # > 0: the budget is spent
            if early > 0:
                return early
        self._arrivals[key] = arrival + self.interval
        return 0.0

    def _sweep(self, now: float) -> None:
        """Forget keys whose budget is whole again (their arrival time has passed)."""
        self._arrivals = {k: t for k, t in self._arrivals.items() if t > now}
        if len(self._arrivals) >= self._sweep_at:
            self._sweep_at *= 2  # that many clients really are active: make room


class RateLimiter:
    """A named limiter. ``backend`` None keeps budgets in this process; a
    ``"redis://..."`` URL (or a ``RateLimitBackend``) shares them across a cluster.

    Bind it to a rate where it is used: ``rate_limit_route(limiter, "100/minute")``,
    ``ResilienceMiddleware(rate_limiter=limiter, rate=...)``, a listener's
    ``rate_limit=(limiter, "50/s")``. Uses sharing a limiter and a rate share each key's
    budget.
    """

    def __init__(self, name: str = "default", backend: str | RateLimitBackend | None = None):
        self.name = name
        if backend is None:
            backend = MemoryBackend()
        elif isinstance(backend, str):
            from ravyn.resilience.redis_backend import RedisBackend

            backend = RedisBackend(backend)
        self.backend = backend

    def limit(self, rate: str | Rate) -> RateLimit:
        """This limiter at ``rate`` (parsed now: a bad rate fails at start)."""
        return RateLimit(self, parse_rate(rate))

    def __repr__(self) -> str:
        return f"<RateLimiter {self.name!r} {type(self.backend).__name__}>"


class RateLimit:
    """A limiter bound to a rate: the policy routes, middleware and listeners apply."""

    __slots__ = ("limiter", "rate", "_prefix", "budget")

    def __init__(self, limiter: RateLimiter, rate: Rate) -> None:
        self.limiter = limiter
        self.rate = rate
        self._prefix = f"{limiter.name}:{rate.limit}/{rate.period:g}:"
        backend = limiter.backend
        self.budget = (  # in process: decided without an await, or a key built per call
            backend.budget(limiter.name, rate) if isinstance(backend, MemoryBackend) else None
        )

    def admit_now(self, key: str) -> object:
        budget = self.budget
        if budget is None:
            return MUST_WAIT  # a shared backend answers over the network
        delay = budget.take(key)
        if delay:
            raise self.refusal(delay)
        return None

    async def admit(self, key: str, *, wait: bool = False) -> None:
        budget = self.budget
        while True:
            if budget is not None:
                delay = budget.take(key)
            else:
                delay = await self.limiter.backend.hit(self._prefix + key, self.rate)
            if not delay:
                return
            if not wait:
                raise self.refusal(delay)
            await asyncio.sleep(delay)

    def refusal(self, delay: float) -> Refused:
        return Refused(
            429,
            f"Too many requests: the limit is {self.rate}.",
            pattern="rate_limiter",
            name=self.limiter.name,
            retry_after=delay,
        )

    def release(self, ticket: None, failed: bool | None) -> None:
        pass  # a call spends its budget when admitted, whatever its outcome
