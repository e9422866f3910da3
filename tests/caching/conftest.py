from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Callable, Iterator
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


@pytest.fixture
def load_docs_src() -> Callable[[str], ModuleType]:
    """Import a docs_src file by path under a unique name, so its decorators run afresh."""

    def load(relative_path: str) -> ModuleType:
        path = Path(__file__).parents[2] / "docs_src" / relative_path
        name = f"docs_src_{path.stem}_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
