from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import NATSServer, RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    data = tmp_path / "redis"
    data.mkdir()
    server = RedisServer(data)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NATSServer]:
    data = tmp_path / "nats"
    data.mkdir()
    server = NATSServer(data)
    server.start()
    yield server
    server.stop()
