from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support.clusters import NATSCluster, RedisClusterNodes, RedisSentinels
from tests.support.servers import NATSServer, RedisServer, Server

from .brokers import Broker, MemoryBroker, NATSBroker, Outcomes, RedisBroker, Worker

ServerT = TypeVar("ServerT", bound=Server)


def running(server: ServerT) -> Iterator[ServerT]:
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    (tmp_path / "redis").mkdir()
    yield from running(RedisServer(tmp_path / "redis"))


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NATSServer]:
    (tmp_path / "nats").mkdir()
    yield from running(NATSServer(tmp_path / "nats"))


ClusterT = TypeVar("ClusterT", NATSCluster, RedisSentinels, RedisClusterNodes)


def running_cluster(cluster: ClusterT) -> Iterator[ClusterT]:
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NATSCluster]:
    """Three nats-server -js nodes routed to each other."""
    (tmp_path / "nats-cluster").mkdir()
    yield from running_cluster(NATSCluster(tmp_path / "nats-cluster"))


@pytest.fixture
def redis_sentinels(tmp_path: Path) -> Iterator[RedisSentinels]:
    """A Redis primary, one replica and three sentinels."""
    (tmp_path / "sentinel").mkdir()
    yield from running_cluster(RedisSentinels(tmp_path / "sentinel"))


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterNodes]:
    """A Redis Cluster of three primaries."""
    (tmp_path / "redis-cluster").mkdir()
    yield from running_cluster(RedisClusterNodes(tmp_path / "redis-cluster"))


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
