from ravyn import Ravyn, get
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    RateLimiter,
    bulkhead_route,
    circuit_breaker_route,
    rate_limit_route,
    timeout_route,
)

cb = CircuitBreaker(name="critical", failure_threshold=3, recovery_timeout=30.0)
bh = Bulkhead(max_concurrent=20)
rl = RateLimiter(name="critical")


# Apply multiple patterns to critical endpoints
@get("/critical")
@timeout_route(5.0)  # Outer: time bound
@circuit_breaker_route(cb)  # Next: fail fast
@bulkhead_route(bh)  # Next: resource isolation
@rate_limit_route(rl, "10/s")  # Inner: rate control
async def critical_operation() -> dict:
    return {"critical": "ok"}


app = Ravyn(routes=[critical_operation])
