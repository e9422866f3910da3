"""The app each server process of test_redis_cluster.py runs: one route whose rate limit
lives in Redis (the URL, limiter name and budget come from the environment)."""

import os

from ravyn import Ravyn, get
from ravyn.resilience import RateLimiter, rate_limit_route

limiter = RateLimiter(os.environ["RAVYN_TEST_LIMITER"], backend=os.environ["RAVYN_TEST_REDIS"])


@get("/quota")
@rate_limit_route(limiter, f"{os.environ['RAVYN_TEST_BUDGET']}/hour")
async def quota() -> dict:
    return {"pid": os.getpid()}


app = Ravyn(routes=[quota])
