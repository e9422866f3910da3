"""The answers the patterns may give instead of the handler's, as the OpenAPI document
lists them: route decorators declare theirs, ``ResilienceMiddleware`` those of the
patterns it is configured with, on every operation it covers."""

from __future__ import annotations

from ravyn.openapi.responses import DeclaredResponse

TOO_MANY_REQUESTS = DeclaredResponse(
    429, "Too many requests from this client: try again after Retry-After.", retry_after=True
)
OVERLOADED = DeclaredResponse(
    503, "The server is overloaded (load shedding): try again after Retry-After.", retry_after=True
)
CIRCUIT_OPEN = DeclaredResponse(
    503, "A circuit breaker is open: try again after Retry-After.", retry_after=True
)
BULKHEAD_FULL = DeclaredResponse(503, "Too many calls at once (the bulkhead is full).")
TIMED_OUT = DeclaredResponse(504, "The call ran longer than its timeout.")
