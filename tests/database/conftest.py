"""Every database test runs on SQLite (a file) and on a real PostgreSQL server."""

from __future__ import annotations

import pytest

from ravyn.events import Registry, use_registry


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(autouse=True)
def fresh_registry():
    with use_registry(Registry()) as registry:
        yield registry
