"""Fixtures every test area shares: real broker servers, and docs_src samples."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from tests.support.samples import load_sample
from tests.support.servers import NATSServer, RedisServer


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real redis-server shared by a session's tests (fails under CI=true if missing)."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real nats-server with JetStream shared by a session's tests."""
    server = NATSServer(tmp_path_factory.mktemp("nats"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def load_docs_src() -> Callable[[str], ModuleType]:
    """``load_docs_src("caching/products.py")``: a fresh module of that sample."""
    return load_sample
