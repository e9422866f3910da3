"""The patterns as ASGI middleware, for every route of an app at once.

``ResilienceMiddleware`` composes them, outermost first: load shedding (the cheapest
refusal under overload), the rate limit per client, the bulkhead, the circuit breaker (so
only the app's own 5xx and timeouts count against it), and the timeout. A refusal is
answered here, as ``{"detail": ...}`` with its status and ``Retry-After``, and the app is
not called. Only HTTP requests are guarded; WebSockets and the lifespan pass through.

The timeout bounds the time until the response starts: a streamed response (Server-Sent
Events) is not cut once it is under way. Retrying is a route's job (``retry_route``): a
request body cannot be read twice by a middleware.

Every request of an app passes here, so the common case costs no call: the configured
patterns are written out in order (no loop over policies, nothing allocated to track
them), and the counting ones (load shedder, bulkhead, a closed circuit) are counted in
line. Anything else (a full shedder, a bulkhead queue, a circuit not closed, a failure)
goes through the pattern's own ``admit``/``release``. (A request costs about 10 µs of
CPU in process; the six calls this saves cost 0.3 µs: bench/bench_resilience.py.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import FunctionType
from typing import Any

from lilya.requests import Request

from ravyn.exceptions import ImproperlyConfigured
from ravyn.middleware.errors import RESPONSE_STATE, ResponseState, send_http_error
from ravyn.openapi.responses import DeclaredResponse
from ravyn.resilience.bulkhead import Bulkhead
from ravyn.resilience.circuit_breaker import CLOSED, CircuitBreaker
from ravyn.resilience.load_shedder import LoadShedder
from ravyn.resilience.policy import Refused, TimedOut, count_refusal
from ravyn.resilience.rate_limiter import RateLimiter
from ravyn.resilience.responses import (
    BULKHEAD_FULL,
    CIRCUIT_OPEN,
    OVERLOADED,
    TIMED_OUT,
    TOO_MANY_REQUESTS,
)
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
        # an object is called through its type's __call__ slot, a bound method directly:
        # 700 instructions less a request on CPython 3.11 (the next app is usually ravyn's
        # exception middleware)
        self._call_app = app.__call__ if type(type(app).__call__) is FunctionType else app
        self.load_shedder = load_shedder
        self.rate_limit = rate_limiter.limit(rate) if rate_limiter is not None else None
        self.key = key
        self.bulkhead = bulkhead
        self.circuit_breaker = circuit_breaker
        self.deadlines = Deadlines(timeout) if timeout is not None else None

    @classmethod
    def openapi_responses(cls, **patterns: Any) -> list[DeclaredResponse]:
        """The refusals the configured ``patterns`` may answer, for every operation this
        middleware covers in the OpenAPI document."""
        declared = {
            "load_shedder": OVERLOADED,
            "rate_limiter": TOO_MANY_REQUESTS,
            "bulkhead": BULKHEAD_FULL,
            "circuit_breaker": CIRCUIT_OPEN,
            "timeout": TIMED_OUT,
        }
        return [response for name, response in declared.items() if patterns.get(name) is not None]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = scope.get(RESPONSE_STATE)
        if response is None:  # outside a Ravyn app: follow the response ourselves
            response, send = _followed(scope, send)
        shedder, bulkhead, breaker = self.load_shedder, self.bulkhead, self.circuit_breaker
        admitted = NONE  # how far the request got, to release exactly that on a refusal
        generation = 0  # the circuit breaker's ticket
        try:
            if shedder is not None:
                if shedder.in_flight < shedder.max_requests:
                    shedder.in_flight += 1
                else:
                    shedder.admit_now()  # refuses
            admitted = SHED
            rate_limit = self.rate_limit
            if rate_limit is not None:
                if self.key is not None:
                    key = self.key(Request(scope, receive))
                else:
                    client = scope.get("client")
                    key = client[0] if client else "unknown"
                budget = rate_limit.budget
                if budget is None:  # a shared backend, over the network
                    await rate_limit.admit(key)
                elif delay := budget.take(key):
                    raise rate_limit.refusal(delay)
            if bulkhead is not None:
                if bulkhead.active < bulkhead.max_concurrent and not bulkhead.waiters:
                    bulkhead.active += 1
                else:
                    await bulkhead.admit()  # waits in its queue, or refuses
            admitted = BULKHEAD
            if breaker is not None:
                generation = breaker.generation if breaker.state is CLOSED else breaker.admit_now()
        except BaseException as exc:  # a refusal, or a cancellation while waiting
            self._release(admitted)
            if not isinstance(exc, Refused):
                raise
            count_refusal(exc)
            await send_http_error(send, exc)
            return
        failed = True
        deadlines = self.deadlines
        deadline = deadlines.start(response) if deadlines is not None else None
        try:
            await self._call_app(scope, receive, send)
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
            # a success in a closed circuit with no failures counted changes nothing
            if breaker is not None and (failed or breaker.failures or breaker.state is not CLOSED):
                breaker.release(generation, failed)
            if bulkhead is not None:
                if bulkhead.waiters:  # hands the slot over
                    bulkhead.release(None, failed)
                else:
                    bulkhead.active -= 1
            if shedder is not None:
                shedder.in_flight -= 1

    def _release(self, admitted: int) -> None:
        """A request refused (or cancelled) during admission: give back what it took."""
        if admitted >= BULKHEAD and self.bulkhead is not None:
            self.bulkhead.release(None, None)
        if admitted >= SHED and self.load_shedder is not None:
            self.load_shedder.release(None, None)
        # a rate limit spends its budget at admission; the circuit breaker admits last


NONE, SHED, BULKHEAD = 0, 1, 2
"""How far a request got through admission: none, past the load shedder (and the rate
limit), past the bulkhead."""


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
