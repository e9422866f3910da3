from ravyn import Ravyn, get
from ravyn.resilience import RateLimiter, rate_limit_route

limiter = RateLimiter(name="api")


# Use for API endpoints
@get("/api/endpoint")
@rate_limit_route(limiter, "100/minute")
async def api_endpoint() -> dict:
    return {"ok": True}


app = Ravyn(routes=[api_endpoint])
