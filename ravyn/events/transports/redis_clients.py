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

        credentials, hosts, path = _split(rest, default_port=26379)
        service, _, db = path.partition("/")
        if not service:
            raise ValueError(
                f"{url!r} names no primary: use redis+sentinel://host:26379/mymaster/0"
            )
        sentinel = Sentinel(hosts, **credentials)
        return sentinel.master_for(service, db=int(db or 0))
    if scheme == CLUSTER_SCHEME:
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        credentials, hosts, path = _split(rest, default_port=6379)
        if path not in ("", "0"):
            raise ValueError(f"{url!r}: a Redis Cluster has database 0 only")
        return RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in hosts], **credentials)
    return redis_asyncio.Redis.from_url(url)


def _split(rest: str, default_port: int) -> tuple[dict[str, str], list[tuple[str, int]], str]:
    """`user:pw@a:1,b/x/0` -> ({username, password}, [(a, 1), (b, default)], `x/0`)."""
    location, _, path = rest.partition("?")[0].partition("/")
    userinfo, _, hosts = location.rpartition("@")
    credentials = {}
    if userinfo:
        username, _, password = userinfo.partition(":")
        if username:
            credentials["username"] = unquote(username)
        if password:
            credentials["password"] = unquote(password)
    addresses = []
    for host in hosts.split(","):
        name, _, port = host.strip().rpartition(":") if ":" in host else (host.strip(), "", "")
        addresses.append((name, int(port) if port else default_port))
    return credentials, addresses, path.strip("/")
