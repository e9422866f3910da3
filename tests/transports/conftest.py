from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.clusters import NATSCluster, RedisClusterNodes, RedisSentinels
from tests.support.servers import started_in

from .brokers import Broker, MemoryBroker, NATSBroker, Outcomes, RedisBroker, Worker

# redis_server and nats_server (one per test) are in tests/conftest.py


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NATSCluster]:
    """Three nats-server -js nodes routed to each other."""
    yield from started_in(tmp_path / "nats-cluster", NATSCluster)


@pytest.fixture
def redis_sentinels(tmp_path: Path) -> Iterator[RedisSentinels]:
    """A Redis primary, one replica and three sentinels."""
    yield from started_in(tmp_path / "sentinel", RedisSentinels)


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    """A Redis Cluster of three primaries."""
    yield from started_in(tmp_path / "redis-cluster", RedisClusterNodes)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every transport test runs on each transport; a test marked `server` (it stops,
    restarts or shares a server with other processes) on the brokers that have one."""
    if "broker" in metafunc.fixturenames:
        kinds = ["redis", "nats"]
        if metafunc.definition.get_closest_marker("server") is None:
            kinds.append("memory")
        metafunc.parametrize("broker", kinds, indirect=True)


@pytest.fixture
def broker(request: pytest.FixtureRequest) -> Broker:
    if request.param == "memory":
        return MemoryBroker()
    server = request.getfixturevalue(f"{request.param}_server")
    return RedisBroker(server) if request.param == "redis" else NATSBroker(server)


@pytest.fixture
def outcomes(tmp_path: Path) -> Outcomes:
    return Outcomes(tmp_path / "outcomes.txt")


@pytest.fixture
def start_worker(
    broker: Broker, outcomes: Outcomes, tmp_path: Path
) -> Iterator[Callable[[], Worker]]:
    workers: list[Worker] = []

    def start() -> Worker:
        worker = Worker(broker, outcomes, tmp_path / f"worker{len(workers)}.log")
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.process.poll() is None:
            worker.kill()
        print(f"--- worker {worker.pid} ---\n{worker.log.read_text()}")  # shown on failure
