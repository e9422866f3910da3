import uvicorn

from ravyn import JSONResponse, Ravyn, Request, get
from ravyn.resilience import (
    CircuitBreaker,
    LoadShedder,
    RateLimiter,
    ResilienceMiddleware,
    circuit_breaker_route,
    rate_limit_route,
)

# Middleware (applies to all handlers)
middleware = [
    ResilienceMiddleware,
    {
        "circuit_breaker": CircuitBreaker(name="api"),
        "rate_limiter": RateLimiter(name="api"),
        "rate": "1000/minute",
        "load_shedder": LoadShedder(max_requests=500),
        "timeout": 30.0,
    },
]


# Or use handler decorators
@get("/api/data")
@circuit_breaker_route(CircuitBreaker(name="api"))
@rate_limit_route(RateLimiter(name="api"), "100/minute")
async def get_data(request: Request) -> JSONResponse:
    return JSONResponse({"data": "..."})


app = Ravyn(routes=[get_data], middleware=middleware)

if __name__ == "__main__":
    uvicorn.run(app)
