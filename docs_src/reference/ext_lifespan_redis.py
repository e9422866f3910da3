# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
import os

from ravyn import Ravyn
from contextlib import asynccontextmanager
import redis.asyncio as redis

REDIS_URL = os.getenv("REDIS_URL", "redis://localhost")  # as the page's best practice 3


@asynccontextmanager
async def lifespan(app: Ravyn):
    # Startup: Connect to Redis
    app.state.redis = await redis.from_url(REDIS_URL)

    yield

    # Shutdown: Close connection
    await app.state.redis.close()


app = Ravyn(lifespan=lifespan)
