from ravyn import Ravyn, get
from ravyn.resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitBreakerMiddleware,
    LoadShedder,
    LoadSheddingMiddleware,
    RateLimiter,
    ResilienceMiddleware,  # Composite
    RetryPolicy,
    retry_route,  # Route-level retry decorator (recommended)
)

app = Ravyn()

# Individual middleware
app.add_middleware(LoadSheddingMiddleware, load_shedder=LoadShedder(max_requests=1000))
app.add_middleware(CircuitBreakerMiddleware, circuit_breaker=CircuitBreaker(name="api"))

# Or use composite middleware
app.add_middleware(
    ResilienceMiddleware,
    rate_limiter=RateLimiter(name="api"),
    rate="1000/minute",
    load_shedder=LoadShedder(max_requests=500),
    bulkhead=Bulkhead(max_concurrent=100),
    circuit_breaker=CircuitBreaker(name="backend"),
    timeout=30.0,
)


# Route-level retry (recommended for retry logic)
@get("/api/data")
@retry_route(RetryPolicy(max_attempts=3, initial_delay=0.1))
async def get_data() -> dict:
    return {"data": "..."}


app.add_route(get_data)
