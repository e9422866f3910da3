from ravyn import JSONResponse, Ravyn, Request, get
from ravyn.resilience import (
    CircuitBreaker,
    LoadShedder,
    RateLimiter,
    circuit_breaker_route,
    rate_limit_route,
    setup_resilience,
)

app = Ravyn()

# Global setup (applies to all routes)
setup_resilience(
    app,
    circuit_breaker=CircuitBreaker(name="api"),
    rate_limiter=RateLimiter(name="api"),
    rate="1000/minute",
    load_shedder=LoadShedder(max_requests=500),
    timeout=30.0,
)


# Or use route decorators
@get("/api/data")
@circuit_breaker_route(CircuitBreaker(name="api"))
@rate_limit_route(RateLimiter(name="api"), "100/minute")
async def get_data(request: Request) -> JSONResponse:
    return JSONResponse({"data": "..."})


app.add_route(get_data)
