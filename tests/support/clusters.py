"""Clustered brokers for the failover tests: NATS nodes with replicated JetStream, Redis
under Sentinel, a Redis Cluster.

Every node is a real process on a free 127.0.0.1 port with its own data directory (see
`servers.Server`): a test can SIGKILL one (`kill()`) and start it again on the same port and
data (`start()`), as an operator's supervisor would. `stop()` ends every process that is
still running.
"""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.servers import (
    START_TIMEOUT,
    NATSServer,
    RedisServer,
    Server,
    find_binary,
    free_port,
)

CLUSTER_START_TIMEOUT = 30.0


def wait_for(
    condition: Callable[[], bool], what: str, timeout: float = CLUSTER_START_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def _redis_command(port: int, *args: str) -> object:
    """One command to a local redis-server or sentinel (None when it does not answer)."""
    import redis

    try:
        with redis.Redis(port=port, socket_timeout=1.0, decode_responses=True) as client:
            return client.execute_command(*args)
    except (redis.RedisError, OSError):
        return None


class NATSNode(NATSServer):
    """One node of a JetStream cluster; ready once it is current with the meta leader."""

    health_check = "/healthz"

    def __init__(self, tmp: Path, name: str, cluster_port: int, routes: list[int]) -> None:
        self.name = name
        super().__init__(
            tmp,
            "-n", name,
            "--cluster_name", "ravyn",
            "--cluster", f"nats://127.0.0.1:{cluster_port}",
            "--routes", ",".join(f"nats://127.0.0.1:{port}" for port in routes),
        )  # fmt: skip


class NATSCluster:
    """`size` nats-server -js nodes routed to each other: replicated streams need them all
    to be created, and a majority to take a message."""

    def __init__(self, tmp: Path, size: int = 3) -> None:
        cluster_ports = [free_port() for _ in range(size)]
        self.nodes: list[NATSNode] = []
        for index, cluster_port in enumerate(cluster_ports):
            data_dir = tmp / f"nats{index}"
            data_dir.mkdir()
            routes = [port for port in cluster_ports if port != cluster_port]
            self.nodes.append(NATSNode(data_dir, f"n{index}", cluster_port, routes))

    @property
    def servers(self) -> list[str]:
        return [node.url for node in self.nodes]

    def url(self, replicas: int) -> str:
        """The one-string form: `nats://a:4222,b:4222,c:4222?replicas=N`."""
        hosts = ",".join(node.url.removeprefix("nats://") for node in self.nodes)
        return f"nats://{hosts}?replicas={replicas}"

    def start(self) -> None:
        _start_together(self.nodes)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class SentinelServer(Server):
    """A redis-sentinel watching `primary` under the name `master_name` (quorum 2)."""

    def __init__(self, tmp: Path, master_name: str, primary_port: int) -> None:
        port = free_port()
        config = tmp / "sentinel.conf"  # sentinel rewrites its config: it must own the file
        config.write_text(
            f"port {port}\n"
            "bind 127.0.0.1\n"
            f"dir {tmp}\n"
            f"sentinel monitor {master_name} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {master_name} 1000\n"
            f"sentinel failover-timeout {master_name} 10000\n"
            f"sentinel parallel-syncs {master_name} 1\n"
        )
        super().__init__([find_binary("redis-sentinel"), str(config)], port, tmp)

    def is_ready(self) -> bool:
        return _redis_command(self.port, "PING") is True


class RedisSentinels:
    """A primary, one replica and three sentinels watching them.

    `start()` returns once the sentinels know the replica and each other, so that a
    failover can happen as soon as a test kills the primary.
    """

    master_name = "mymaster"

    def __init__(self, tmp: Path) -> None:
        for name in ("primary", "replica", "sentinel0", "sentinel1", "sentinel2"):
            (tmp / name).mkdir()
        self.primary = RedisServer(tmp / "primary")
        self.replica = RedisServer(
            tmp / "replica", "--replicaof", "127.0.0.1", str(self.primary.port)
        )
        self.sentinels = [
            SentinelServer(tmp / f"sentinel{index}", self.master_name, self.primary.port)
            for index in range(3)
        ]

    def url(self, db: int = 0) -> str:
        """`redis+sentinel://s1,s2,s3/mymaster/db`: the transport asks the sentinels."""
        hosts = ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.master_name}/{db}"

    def start(self) -> None:
        self.primary.start()
        self.replica.start()
        wait_for(self._replica_in_sync, "the replica to sync with the primary")
        _start_together(self.sentinels)
        wait_for(self._sentinels_see_everyone, "the sentinels to find the replica and each other")

    def stop(self) -> None:
        for server in (*self.sentinels, self.replica, self.primary):
            server.stop()

    def primary_port(self) -> int | None:
        """The port of the primary the sentinels name now (after a failover, the replica's)."""
        reply = _redis_command(
            self.sentinels[0].port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name
        )
        return int(reply[1]) if isinstance(reply, list) and reply else None

    def _replica_in_sync(self) -> bool:
        info = _redis_command(self.replica.port, "INFO", "replication")
        return isinstance(info, dict) and info.get("master_link_status") == "up"

    def _sentinels_see_everyone(self) -> bool:
        for sentinel in self.sentinels:
            replicas = _redis_command(sentinel.port, "SENTINEL", "REPLICAS", self.master_name)
            others = _redis_command(sentinel.port, "SENTINEL", "SENTINELS", self.master_name)
            if not replicas or not isinstance(others, list) or len(others) < 2:
                return False
        return True


class RedisClusterNodes:
    """`size` redis-server primaries in cluster mode, the 16384 slots spread over them."""

    def __init__(self, tmp: Path, size: int = 3) -> None:
        self.nodes: list[RedisServer] = []
        for index in range(size):
            data_dir = tmp / f"redis{index}"
            data_dir.mkdir()
            options = {
                "--cluster-enabled": "yes",
                "--cluster-config-file": "nodes.conf",
                "--cluster-node-timeout": "2000",
                # the bus port, else the client port + 10000 (past 65535 for some)
                "--cluster-port": str(free_port()),
            }
            self.nodes.append(RedisServer(data_dir, *itertools.chain(*options.items())))

    def url(self) -> str:
        """`redis+cluster://a,b,c/0`: any reachable node tells the client the slot map."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"redis+cluster://{hosts}/0"

    def start(self) -> None:
        _start_together(self.nodes)
        subprocess.run(
            [
                find_binary("redis-cli"),
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],  # fmt: skip
            check=True,
            capture_output=True,
            timeout=CLUSTER_START_TIMEOUT,
        )
        wait_for(self._every_node_ok, "the cluster to cover every slot")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def _every_node_ok(self) -> bool:
        for node in self.nodes:
            if "cluster_state:ok" not in str(_redis_command(node.port, "CLUSTER", "INFO")):
                return False
        return True


def _start_together(servers: list[NATSNode] | list[SentinelServer] | list[RedisServer]) -> None:
    """Launch every process, then wait for each: a cluster node may be ready only once
    a majority of its peers is up."""
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready(max(START_TIMEOUT, CLUSTER_START_TIMEOUT))
    except BaseException:
        for server in servers:
            server.stop()
        raise
