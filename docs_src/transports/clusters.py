"""Clustered brokers: name every node in the URL; the app and its workers share it.

The URLs come from the environment here so that the same file runs against your nodes.
"""

import os

from ravyn import Ravyn
from ravyn.events.transports.nats import NATSTransport

# NATS cluster: one scheme, the hosts comma-separated; streams kept on three servers.
NATS_URL = os.environ.get(
    "NATS_CLUSTER_URL", "nats://10.0.0.1:4222,10.0.0.2:4222,10.0.0.3:4222?replicas=3"
)
on_nats_cluster = Ravyn(event_transport=NATS_URL)

# The same as an object.
on_nats_servers = Ravyn(
    event_transport=NATSTransport(
        servers=["nats://10.0.0.1:4222", "nats://10.0.0.2:4222", "nats://10.0.0.3:4222"],
        replicas=3,
    )
)

# Redis under Sentinel: the sentinels, the name they monitor, the database. replica_acks=1:
# a batch counts as sent once a replica has it, so a failover loses nothing emitted.
SENTINEL_URL = os.environ.get(
    "REDIS_SENTINEL_URL",
    "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster/0?replica_acks=1",
)
on_sentinel = Ravyn(event_transport=SENTINEL_URL)

# Redis Cluster: any nodes; every key of the prefix shares the hash tag {shop}.
CLUSTER_URL = os.environ.get(
    "REDIS_CLUSTER_URL", "redis+cluster://10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379?prefix=shop"
)
on_redis_cluster = Ravyn(event_transport=CLUSTER_URL)
