"""How a Redis URL becomes a client: one server, a primary found through Sentinel, or a Cluster.

- `redis://[user:password@]host:6379/0` (also `rediss://`, `unix://`): one server.
- `redis+sentinel://[user:password@]s1:26379,s2:26379/mymaster/0`: the sentinels (default
  port 26379), the name they monitor, the database. The client asks the sentinels for the
  primary and asks again when its connection fails or the old primary turned replica, so
  it follows a failover. The credentials are the Redis servers'; the sentinels are asked
  without any.
- `redis+cluster://[user:password@]n1:6379,n2:6379`: any reachable nodes of a Redis Cluster
  (database 0, the only one a cluster has); the client learns the slot map from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

SENTINEL_SCHEME = "redis+sentinel"
CLUSTER_SCHEME = "redis+cluster"


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0].lower() == CLUSTER_SCHEME


def redis_client(url: str) -> Any:
    """A redis-py asyncio client for any of the URL forms above."""
    import redis.asyncio as redis_asyncio

    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == SENTINEL_SCHEME:
        from redis.asyncio.sentinel import Sentinel

        location = _Location.parse(rest, default_port=26379)
        service, _, db = location.path.partition("/")
        if not service:
            raise ValueError(
                f"{url!r} names no primary: use redis+sentinel://host:26379/mymaster/0"
            )
        sentinel_class: Any = Sentinel  # untyped in redis-py
        sentinel = sentinel_class(
            location.hosts, username=location.username, password=location.password
        )
        return sentinel.master_for(service, db=int(db or 0))
    if scheme == CLUSTER_SCHEME:
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        location = _Location.parse(rest, default_port=6379)
        if location.path not in ("", "0"):
            raise ValueError(f"{url!r}: a Redis Cluster has database 0 only")
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in location.hosts],
            username=location.username,
            password=location.password,
        )
    return redis_asyncio.Redis.from_url(url)


@dataclass(frozen=True, slots=True)
class _Location:
    """`user:pw@a:1,b/x/0` -> user, pw, [(a, 1), (b, default port)], `x/0`."""

    username: str | None
    password: str | None
    hosts: list[tuple[str, int]]
    path: str

    @classmethod
    def parse(cls, rest: str, default_port: int) -> _Location:
        location, _, path = rest.partition("?")[0].partition("/")
        userinfo, _, hosts = location.rpartition("@")
        username, _, password = userinfo.partition(":")
        addresses = []
        for host in hosts.split(","):
            name, colon, port = host.strip().rpartition(":")
            if not colon:
                name, port = host.strip(), ""
            addresses.append((name, int(port) if port else default_port))
        return cls(unquote(username) or None, unquote(password) or None, addresses, path.strip("/"))
