"""Resilience patterns for routes, the whole app and listeners: circuit breaker, retry,
timeout, bulkhead, rate limit, load shedding, fallback (see docs/resilience.md)."""

from ravyn.events.retry import RetryPolicy
from ravyn.resilience.bulkhead import Bulkhead
from ravyn.resilience.circuit_breaker import CircuitBreaker
from ravyn.resilience.load_shedder import LoadShedder
from ravyn.resilience.middleware import (
    CircuitBreakerMiddleware,
    LoadSheddingMiddleware,
    ResilienceMiddleware,
    setup_resilience,
)
from ravyn.resilience.policy import Policy, Refused, TimedOut
from ravyn.resilience.rate_limiter import MemoryBackend, RateLimitBackend, RateLimiter
from ravyn.resilience.rates import Rate
from ravyn.resilience.routes import (
    bulkhead_route,
    circuit_breaker_route,
    rate_limit_route,
    retry_route,
    timeout_route,
    with_fallback_route,
)

__all__ = [
    "Bulkhead",
    "CircuitBreaker",
    "CircuitBreakerMiddleware",
    "LoadShedder",
    "LoadSheddingMiddleware",
    "MemoryBackend",
    "Policy",
    "Rate",
    "RateLimitBackend",
    "RateLimiter",
    "Refused",
    "ResilienceMiddleware",
    "RetryPolicy",
    "TimedOut",
    "bulkhead_route",
    "circuit_breaker_route",
    "rate_limit_route",
    "retry_route",
    "setup_resilience",
    "timeout_route",
    "with_fallback_route",
]
