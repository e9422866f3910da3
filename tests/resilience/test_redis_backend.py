"""The Redis rate-limit backend's client lives as long as the app: opened on first use,
closed by the lifespan shutdown, opened again when the app starts again."""

from __future__ import annotations

import uuid

import pytest
import redis

from ravyn import Ravyn, get
from ravyn.resilience import RateLimiter, rate_limit_route
from ravyn.testclient import TestClient
from tests.resilience.helpers import wait_until

pytestmark = pytest.mark.timeout(60)


def test_the_redis_client_is_closed_when_the_app_stops(redis_url):
    name = f"ratelimit-{uuid.uuid4().hex[:12]}"  # the backend's connections, told apart
    limiter = RateLimiter("closing", backend=f"{redis_url}?client_name={name}")

    @get("/quota")
    @rate_limit_route(limiter, "100/minute")
    async def quota() -> dict:
        return {}

    app = Ravyn(routes=[quota])
    observer = redis.Redis.from_url(redis_url)

    def connections() -> int:
        return sum(client["name"] == name for client in observer.client_list())

    try:
        for _ in range(2):  # a restarted app opens a new client, and closes it again
            with TestClient(app) as client:
                assert [client.get("/quota").status_code for _ in range(3)] == [200] * 3
                assert connections() == 1
            wait_until(lambda: connections() == 0, 10, "the backend's connection closed")
    finally:
        observer.close()
