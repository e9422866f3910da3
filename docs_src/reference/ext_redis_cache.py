# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
import os

from ravyn import Request, post  # the sample uses them without importing them

from ravyn import Ravyn, get
from contextlib import asynccontextmanager
import redis.asyncio as redis

REDIS_URL = os.getenv("REDIS_URL", "redis://localhost")  # as the page's best practice 3


@asynccontextmanager
async def lifespan(app: Ravyn):
    app.state.redis = await redis.from_url(REDIS_URL)
    yield
    await app.state.redis.close()


app = Ravyn(lifespan=lifespan)


@get("/cache/{key}")
async def get_cached(request: Request, key: str) -> dict:
    value = await request.app.state.redis.get(key)
    return {"key": key, "value": value}


@post("/cache/{key}")
async def set_cached(request: Request, key: str, value: str) -> dict:
    await request.app.state.redis.set(key, value)
    return {"cached": True}


app.add_route(get_cached)  # the page never mounts them
app.add_route(set_cached)
