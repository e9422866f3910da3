"""The patterns as ASGI middleware, for every route of an app at once.

``ResilienceMiddleware`` composes them, outermost first: load shedding (the cheapest
refusal under overload), the rate limit per client, the bulkhead, the circuit breaker (so
only the app's own 5xx and timeouts count against it), and the timeout. A refusal is
answered here, as ``{"detail": ...}`` with its status and ``Retry-After``, and the app is
not called. Only HTTP requests are guarded; WebSockets and the lifespan pass through.

The timeout bounds the time until the response starts: a streamed response (Server-Sent
Events) is not cut once it is under way. Retrying is a route's job (``retry_route``): a
request body cannot be read twice by a middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from lilya.requests import Request

from ravyn.exceptions import ImproperlyConfigured
from ravyn.middleware.errors import RESPONSE_STATE, ResponseState, send_http_error
from ravyn.resilience.bulkhead import Bulkhead
from ravyn.resilience.circuit_breaker import CircuitBreaker
from ravyn.resilience.load_shedder import LoadShedder
from ravyn.resilience.policy import MUST_WAIT, Refused, TimedOut, count_refusal
from ravyn.resilience.rate_limiter import RateLimiter
from ravyn.resilience.timeout import Deadlines


class ResilienceMiddleware:
    """Any of the patterns, each optional: ``load_shedder``, ``rate_limiter`` with its
    ``rate`` (``key(request)`` picks the client, by default its address), ``bulkhead``,
    ``circuit_breaker``, ``timeout`` (seconds)."""

    def __init__(
        self,
        app: Any,
        *,
        rate_limiter: RateLimiter | None = None,
        rate: str | None = None,
        key: Callable[[Request], str] | None = None,
        load_shedder: LoadShedder | None = None,
        bulkhead: Bulkhead | None = None,
        circuit_breaker: CircuitBreaker | None = None,
        timeout: float | None = None,
    ) -> None:
        if (rate_limiter is None) != (rate is None):
            raise ImproperlyConfigured(
                "Give rate_limiter= and rate= together (e.g. rate_limiter=RateLimiter('api'), "
                "rate='1000/minute')."
            )
        self.app = app
        rate_limit = rate_limiter.limit(rate) if rate_limiter is not None else None
        policies = [p for p in (load_shedder, rate_limit, bulkhead, circuit_breaker) if p]
        self.policies = tuple(policies)
        self._guards = tuple((p.admit_now, p.admit, p.release) for p in policies)
        self.key = key
        self.keyed = rate_limit is not None
        self.deadlines = Deadlines(timeout) if timeout is not None else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = scope.get(RESPONSE_STATE)
        if response is None:  # outside a Ravyn app: follow the response ourselves
            response, send = _followed(scope, send)
        key = ""
        if self.keyed:
            if self.key is not None:
                key = self.key(Request(scope, receive))
            else:
                client = scope.get("client")
                key = client[0] if client else "unknown"
        admitted = []  # (release, ticket) of each pattern that let the request in
        try:
            for admit_now, admit, release in self._guards:  # awaiting only what must wait
                ticket = admit_now(key)
                if ticket is MUST_WAIT:
                    ticket = await admit(key)
                admitted.append((release, ticket))
        except Refused as refused:
            for release, ticket in admitted:  # any order
                release(ticket, None)
            count_refusal(refused)
            await send_http_error(send, refused)
            return
        failed = True
        deadlines = self.deadlines
        deadline = deadlines.start(response) if deadlines is not None else None
        try:
            await self.app(scope, receive, send)
            failed = response.status >= 500
        except asyncio.CancelledError:
            expired = deadline is not None and deadlines.finish(deadline)
            deadline = None
            if not expired:
                raise  # not ours: the server is stopping
            await send_http_error(send, TimedOut(deadlines.seconds))
        finally:
            if deadline is not None:
                deadlines.finish(deadline)
            for release, ticket in admitted:
                release(ticket, failed)


class LoadSheddingMiddleware(ResilienceMiddleware):
    """Only load shedding: ``app.add_middleware(LoadSheddingMiddleware, load_shedder=...)``."""

    def __init__(self, app: Any, *, load_shedder: LoadShedder) -> None:
        super().__init__(app, load_shedder=load_shedder)


class CircuitBreakerMiddleware(ResilienceMiddleware):
    """Only a circuit breaker, counting the app's 5xx responses as failures."""

    def __init__(self, app: Any, *, circuit_breaker: CircuitBreaker) -> None:
        super().__init__(app, circuit_breaker=circuit_breaker)


def setup_resilience(app: Any, **patterns: Any) -> None:
    """Protect every route of ``app`` in one call: ``patterns`` are those of
    ``ResilienceMiddleware``. Checked now, so a bad rate fails here."""
    ResilienceMiddleware(None, **patterns)
    app.add_middleware(ResilienceMiddleware, **patterns)


def _followed(scope: dict[str, Any], send: Any) -> tuple[ResponseState, Any]:
    response = scope[RESPONSE_STATE] = ResponseState()

    async def following(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response.started = True
            response.status = message["status"]
        await send(message)

    return response, following
