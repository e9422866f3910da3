from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest


def load_transport_servers() -> ModuleType:
    """The real-server helpers of tests/transports, loaded by path (not a package)."""
    path = Path(__file__).parents[1] / "transports" / "servers.py"
    spec = importlib.util.spec_from_file_location("caching_test_servers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real redis-server for the caching tests (fails under CI=true if missing)."""
    server = load_transport_servers().RedisServer(tmp_path_factory.mktemp("redis-cache"))
    server.start()
    yield server.url
    server.stop()
