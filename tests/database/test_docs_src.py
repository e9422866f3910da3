"""The samples of docs/database.md, run as written (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text

from ravyn.database import SqlDatabase
from tests.web.helpers import load_docs_module, serve

pytestmark = pytest.mark.timeout(60)


def confirmed_orders(url: str) -> list[int]:
    """Read through an engine of the test's own (the server's belongs to its thread)."""

    async def read() -> list[int]:
        reader = SqlDatabase(url)
        try:
            async with reader.engine.connect() as connection:
                rows = await connection.scalars(text("SELECT order_id FROM confirmations"))
                return sorted(rows)
        finally:
            await reader.dispose()

    return asyncio.run(read())


def test_orders_sample_on_a_real_server(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    sample = load_docs_module("docs_src/database/orders.py")
    with serve(sample.app) as address:
        for item in ("book", "pen", "ink"):
            placed = httpx.post(f"http://{address}/orders", json={"item": item})
            assert placed.status_code == 201
        page = httpx.get(f"http://{address}/orders", params={"page": 2, "per_page": 2})
        assert page.json() == {
            "items": [{"order_id": 3, "item": "ink"}],
            "page": 2,
            "per_page": 2,
            "total": 3,
        }
        bad = httpx.get(f"http://{address}/orders", params={"per_page": 0})
        assert bad.status_code == 400
        deadline = time.monotonic() + 20
        while confirmed_orders(database_url) != [1, 2, 3]:  # listeners run after commits
            assert time.monotonic() < deadline, confirmed_orders(database_url)
            time.sleep(0.05)
