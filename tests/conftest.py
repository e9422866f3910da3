"""Fixtures every test area shares: real broker and database servers, and docs_src samples."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
import structlog

from tests.support.samples import load_sample
from tests.support.servers import NATSServer, PostgresServer, RedisServer, started, started_in


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real redis-server shared by a session's tests (fails under CI=true if missing)."""
    with started(RedisServer(tmp_path_factory.mktemp("redis"))) as server:
        yield server.url


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real nats-server with JetStream shared by a session's tests."""
    with started(NATSServer(tmp_path_factory.mktemp("nats"))) as server:
        yield server.url


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of the test's own (to stop, restart, or find empty)."""
    yield from started_in(tmp_path / "redis", RedisServer)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NATSServer]:
    """A nats-server with JetStream of the test's own."""
    yield from started_in(tmp_path / "nats", NATSServer)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server shared by a session's tests (fails under CI=true if
    missing); ``postgres_url`` gives each test a database of its own on it."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.remove()


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty PostgreSQL database: ``postgresql+asyncpg://...``."""
    import asyncpg

    name = f"test_{os.getpid()}_{next(_databases)}"

    async def create() -> None:
        connection = await asyncpg.connect(postgres_server.url().replace("+asyncpg", ""))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return postgres_server.url(name)


@pytest.fixture
def load_docs_src() -> Callable[[str], ModuleType]:
    """``load_docs_src("caching/products.py")``: a fresh module of that sample."""
    return load_sample


@pytest.fixture
def debug_logs():
    """Debug lines reach ``capture_logs`` even if an app configured logging at info."""
    was_configured = structlog.is_configured()
    saved = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    yield
    if was_configured:
        structlog.configure(wrapper_class=saved)
    else:
        structlog.reset_defaults()
