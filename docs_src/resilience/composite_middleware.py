from ravyn import Ravyn, get
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    LoadShedder,
    RateLimiter,
    ResilienceMiddleware,
)

rate_limiter = RateLimiter(name="api")
load_shedder = LoadShedder(max_requests=500)
bulkhead = Bulkhead(max_concurrent=100)
circuit = CircuitBreaker(name="backend")


@get("/hello")
async def hello() -> dict:
    return {"hello": "world"}


app = Ravyn(routes=[hello])

# Single middleware with multiple patterns
app.add_middleware(
    ResilienceMiddleware,
    rate_limiter=rate_limiter,
    rate="1000/minute",
    load_shedder=load_shedder,
    bulkhead=bulkhead,
    timeout=30.0,
    circuit_breaker=circuit,
)
