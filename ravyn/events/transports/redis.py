"""Redis transport: Streams for once-per-cluster listeners, pub/sub for broadcast ones.

Every event is written, by one script call per batch, to the stream `{prefix}:{event name}`
(XADD, MAXLEN ~ bound) and published on the channel of the same name (the events of a batch
with the same name as one message: a JSON array). Each durable listener
is a consumer group named after it (`module:qualname`) on the streams of the events it
listens to; every process holding that listener is a consumer of the group, so each entry
runs once in the cluster. Entries are acknowledged (per batch) after the listener returned;
a listener that fails its last attempt (its `retry=` policy, run by `bus.deliver`) has the
entry copied to the dead-letter stream `{prefix}:dead` with the error, then acknowledged.
Entries a dead consumer left pending are taken over once idle past `visibility_timeout`
(XAUTOCLAIM), and dead-lettered after `max_deliveries` deliveries without an outcome.

The URL may name one server, a primary behind Sentinel or a Cluster (`redis_clients.py`).
On a Cluster every key of the transport carries the hash tag `{prefix}`, so the streams,
channels and dead letters of one prefix share a slot: one script call per batch and one
XREADGROUP over several streams stay possible. With `replica_acks=N` a batch counts as
sent only once N replicas have it (WAIT): a failover then loses no event the outbox let go.

Why one module of ~430 lines: it is the whole of one broker (commands, its consumer
group and its pub/sub feed); what every broker shares lives in `broker.py`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Unpack

import msgspec
import structlog

from ravyn.events.registry import is_pattern, matches
from ravyn.events.transports.broker import (
    BroadcastFeed,
    BrokerOptions,
    BrokerTransport,
    DurableConsumer,
)
from ravyn.events.transports.contract import TransportUnavailable
from ravyn.events.transports.delivery import Settlement, Verdict
from ravyn.events.transports.outbox import Outgoing
from ravyn.events.transports.redis_clients import is_cluster_url, redis_client
from ravyn.events.transports.subscriptions import as_glob
from ravyn.utils.redaction import redact_credentials

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ravyn.events.listener import Listener

logger = structlog.get_logger("ravyn.events.transports.redis")

DISCOVERY_INTERVAL = 0.3
"""Seconds between looks for new streams of a listened pattern (and the longest a pattern
consumer blocks on a read): a new stream's first event arrives within about twice that."""

# KEYS: the stream of each of the N events, then the channel of each broadcast message.
# ARGV: MAXLEN, N, the N encoded events, the broadcast messages. (Each name's events end
# to end in one argument spared redis-py packing one argument per event, but cutting them
# apart in Lua cost the server about a quarter more instructions per event, valgrind said.)
PUBLISH_SCRIPT = """
local n = tonumber(ARGV[2])
for i = 1, n do
    redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[i + 2])
end
for i = n + 1, #KEYS do
    redis.call('PUBLISH', KEYS[i], ARGV[i + 2])
end
return n
"""


class Entry(msgspec.Struct, frozen=True, gc=False):
    """A stream entry taken by a consumer group. A Struct: a frozen dataclass costs about
    five times as much to make, once per entry read (and it holds no container: the
    garbage collector need not track it)."""

    stream: str
    id: bytes
    data: bytes
    delivery: int


class RedisTransport(BrokerTransport):
    kind = "redis"
    title = "Redis"
    unreachable_hint = "start redis-server or fix the URL"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        stream_prefix: str = "ravyn",
        maxlen: int = 100_000,
        dead_letter_maxlen: int = 100_000,
        batch_size: int = 100,
        block: float = 1.0,
        visibility_timeout: float = 30.0,
        consumer_name: str | None = None,
        replica_acks: int = 0,
        replica_ack_timeout: float = 1.0,
        **options: Unpack[BrokerOptions],
    ) -> None:
        """`replica_acks`: replicas that must have a batch before it counts as sent (0: the
        primary's word is enough); a batch they do not confirm within `replica_ack_timeout`
        seconds is sent again, so listeners may see it twice, never lose it."""
        super().__init__(**options)
        self.url = url
        # On a Cluster, a hash tag keeps every key of the prefix in one slot.
        self.prefix = f"{{{stream_prefix}}}" if is_cluster_url(url) else stream_prefix
        self.maxlen = maxlen
        self.dead_letter_maxlen = dead_letter_maxlen
        self.batch_size = batch_size
        self.block_ms = int(block * 1000)
        self.visibility_timeout = visibility_timeout
        self.consumer_name = (
            consumer_name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        )
        if replica_acks and is_cluster_url(url):
            raise ValueError(
                "replica_acks works with one Redis server or Sentinel, not a Cluster (WAIT has "
                "no key to route by): leave it at 0 on redis+cluster://"
            )
        self.replica_acks = replica_acks
        self.replica_ack_timeout_ms = max(1, int(replica_ack_timeout * 1000))
        self.dead_letter_stream = f"{self.prefix}:dead"
        self._response_error: type[BaseException] = OSError
        self._client: Redis | None = None
        self._ignored_keys: set[bytes] = set()

    @property
    def address(self) -> str:
        return redact_credentials(self.url)

    def key(self, event_name: str) -> str:
        """The stream key and pub/sub channel of an event name."""
        return f"{self.prefix}:{event_name}"

    async def acquire_once(self, key: str, ttl: float) -> bool:
        client = self._require_client()
        try:
            taken = await client.set(
                f"{self.prefix}:once:{key}", b"1", nx=True, px=max(1, int(ttl * 1000))
            )
        except Exception as exc:  # lost connection or server error
            raise TransportUnavailable(
                f"Redis unreachable for acquire_once({key!r}): {exc}"
            ) from exc
        return bool(taken)

    # --- broker hooks ----------------------------------------------------------------------

    async def _connect(self) -> None:
        redis_asyncio = self._client_library("redis.asyncio", "redis-py")
        self._response_error = redis_asyncio.ResponseError
        self._client = redis_client(self.url)
        # Only the consumers read with XREADGROUP, and they take its reply as it comes:
        # redis-py's own parse makes a tuple and a dict of every entry, then dropped.
        self._client.set_response_callback("XREADGROUP", _unparsed)
        self._publish_script = self._client.register_script(PUBLISH_SCRIPT)
        await self._client.ping()

    async def _subscribe_durable(self, listener: Listener, names: tuple[str, ...]) -> None:
        consumer = RedisConsumer(self, listener, names)
        await self._discover(names, start_at="$", known=consumer.streams)
        await self._create_groups(listener.name, consumer.streams)
        self._spawn_consumer(consumer)
        reclaim = self._repeat("reclaim", consumer.maintain, listener=listener.name)
        self._tasks.spawn(reclaim, waiting=True)

    async def _subscribe_broadcast(self, names: frozenset[str]) -> None:
        pubsub = self._require_client().pubsub(ignore_subscribe_messages=True)
        channels = [self.key(name) for name in names if not is_pattern(name)]
        patterns = [as_glob(self.key(name)) for name in names if is_pattern(name)]
        if channels:
            await pubsub.subscribe(*channels)
        if patterns:
            await pubsub.psubscribe(*patterns)
        self._spawn_feed(RedisFeed(pubsub))

    async def _send(self, batch: list[Outgoing]) -> None:
        """One command per batch: a script XADDs each event and PUBLISHes the broadcast
        messages server-side.

        redis-py spends most of a publish on per-command work (packing, reply parsing), so
        one script call for the batch costs less than one pipelined command per event.
        """
        frames = self._frames(batch)
        keys = [self.key(event.name) for event, _ in batch] + [self.key(n) for n, _ in frames]
        args: list[Any] = [self.maxlen, len(batch), *(data for _, data in batch)]
        args += [frame for _, frame in frames]
        if not self.replica_acks:
            await self._publish_script(keys=keys, args=args)
            return
        # WAIT counts the replicas that have this connection's writes: same pipeline.
        pipe = self._require_client().pipeline(transaction=False)
        await self._publish_script(keys=keys, args=args, client=pipe)
        pipe.execute_command("WAIT", self.replica_acks, self.replica_ack_timeout_ms)
        _, replicas = await pipe.execute()
        if replicas < self.replica_acks:
            raise TransportUnavailable(
                f"{replicas} of the {self.replica_acks} replicas asked for (replica_acks) "
                f"confirmed a batch within {self.replica_ack_timeout_ms} ms: it is sent again"
            )

    async def _disconnect(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- streams and groups ----------------------------------------------------------------

    async def _discover(
        self, names: tuple[str, ...], *, start_at: str, known: dict[str, str]
    ) -> dict[str, str]:
        """Add to `known` (stream -> read id) the streams of `names`, patterns included.

        A stream found after start is read from its beginning (`start_at="0"`): it was
        created after we last looked, so everything in it is news.
        """
        client = self._require_client()
        wanted = [self.key(name) for name in names if not is_pattern(name)]
        for name in names:
            if is_pattern(name):
                async for key in client.scan_iter(match=as_glob(self.key(name)), _type="STREAM"):
                    try:
                        stream = key.decode()
                    except UnicodeDecodeError:
                        self._ignore_key(key)  # not a stream any ravyn process writes
                        continue
                    if matches(name, stream.removeprefix(self.key(""))):
                        wanted.append(stream)
        for stream in wanted:
            if stream not in known and stream != self.dead_letter_stream:
                known[stream] = start_at
        return known

    def _ignore_key(self, key: bytes) -> None:
        if key not in self._ignored_keys:
            self._ignored_keys.add(key)
            logger.warning("stream_key_ignored", key=repr(key), reason="not UTF-8")

    async def _create_groups(self, group: str, streams: dict[str, str]) -> None:
        client = self._require_client()
        for stream, start_at in streams.items():
            try:
                await client.xgroup_create(stream, group, id=start_at, mkstream=True)
            except self._response_error as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    def _require_client(self) -> Redis:
        if self._client is None:
            raise RuntimeError("RedisTransport is not started: start it with the bus")
        return self._client


class RedisConsumer(DurableConsumer[Entry]):
    """A listener's consumer group on the streams of the events it listens to."""

    def __init__(self, transport: RedisTransport, listener: Listener, names: tuple[str, ...]):
        self.transport = transport
        self.listener = listener
        self.names = names
        self.streams: dict[str, str] = {}  # stream -> id its group was created at
        self.keep_alive_every = transport.visibility_timeout / 3
        self.has_patterns = any(is_pattern(name) for name in names)
        self._next_reclaim = 0.0

    async def fetch(self) -> list[Entry]:
        transport = self.transport
        client = transport._require_client()
        if not self.streams:  # a pattern no stream matches yet: `maintain` looks for one
            await asyncio.sleep(DISCOVERY_INTERVAL)
            return []
        try:
            reply: Any = await client.xreadgroup(
                self.listener.name,
                transport.consumer_name,
                dict.fromkeys(self.streams, ">"),
                count=transport.batch_size,
                # a pattern's new streams join the read at the next call: come back soon
                block=min(transport.block_ms, int(DISCOVERY_INTERVAL * 1000))
                if self.has_patterns
                else transport.block_ms,
            )
        except transport._response_error as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis lost the group (restarted without persistence): make it again and
            # read all that the stream still holds, rather than skip it.
            logger.warning("consumer_group_lost", listener=self.listener.name)
            await transport._create_groups(self.listener.name, dict.fromkeys(self.streams, "0"))
            return []
        # The reply as the protocol gives it (see `_connect`): {stream: [[id, [field, value,
        # ...]], ...]} on RESP3, [[stream, [...]], ...] on RESP2.
        batch: list[Entry] = []
        for stream, entries in reply.items() if isinstance(reply, dict) else reply or ():
            name = stream.decode()
            batch += [Entry(name, entry_id, _data(fields), 1) for entry_id, fields in entries]
        return batch

    def received(self, message: Entry) -> tuple[bytes, int]:
        return message.data, message.delivery

    async def keep_alive(self, batch: Sequence[Entry]) -> None:
        # XCLAIM by their owner resets the idle time, so XAUTOCLAIM leaves them alone.
        client = self.transport._require_client()
        for stream, ids in _ids_by_stream(batch).items():
            await client.xclaim(
                stream, self.listener.name, self.transport.consumer_name, 0, list(ids), justid=True
            )

    async def settle(self, batch: Sequence[Entry], settlements: Sequence[Settlement]) -> None:
        transport = self.transport
        client = transport._require_client()
        by_stream = (  # a consumer of one event name reads one stream
            {batch[0].stream: [entry.id for entry in batch]}
            if len(self.streams) == 1 and not self.has_patterns
            else _ids_by_stream(batch)
        )
        if len(by_stream) == 1 and all(item.verdict is Verdict.ACK for item in settlements):
            # The usual batch: one XACK of every id, without a pipeline. (A script taking the
            # ids as one argument spared redis-py packing one argument per id, ~9% of the
            # consumer's instructions per event, but the server's grew by about as many,
            # valgrind said: no gain, and the server is what every client shares.)
            [(stream, ids)] = by_stream.items()
            await client.xack(stream, self.listener.name, *ids)
            return
        pipe = client.pipeline(transaction=False)
        for entry, settlement in zip(batch, settlements, strict=True):
            if settlement.verdict is Verdict.DEAD:
                pipe.xadd(
                    transport.dead_letter_stream,
                    {
                        "data": entry.data,
                        "stream": entry.stream,
                        "entry_id": entry.id,
                        "listener": self.listener.name,
                        "deliveries": entry.delivery,
                        "error": settlement.error,
                        "failed_at": datetime.now(UTC).isoformat(),
                    },
                    maxlen=transport.dead_letter_maxlen,
                    approximate=True,
                )
        for stream, ids in by_stream.items():
            pipe.xack(stream, self.listener.name, *ids)
        await pipe.execute()

    async def maintain(self) -> None:
        """Every so often: find new streams of a pattern (every DISCOVERY_INTERVAL, so the
        first event of a new stream arrives within a second), and take over the entries a
        dead consumer left pending past the visibility timeout."""
        transport = self.transport
        reclaim_every = min(1.0, transport.visibility_timeout / 2)
        transport._tasks.waiting(True)
        await asyncio.sleep(DISCOVERY_INTERVAL if self.has_patterns else reclaim_every)
        transport._tasks.waiting(False)
        if self.has_patterns:
            before = set(self.streams)
            await transport._discover(self.names, start_at="0", known=self.streams)
            new = {stream: self.streams[stream] for stream in set(self.streams) - before}
            await transport._create_groups(self.listener.name, new)
        if time.monotonic() >= self._next_reclaim:
            self._next_reclaim = time.monotonic() + reclaim_every
            for stream in list(self.streams):
                await self._reclaim(stream)

    async def _reclaim(self, stream: str) -> None:
        transport = self.transport
        client = transport._require_client()
        idle_ms = int(transport.visibility_timeout * 1000)
        start = "0-0"
        while True:
            try:
                start, entries, deleted = await client.xautoclaim(
                    stream,
                    self.listener.name,
                    transport.consumer_name,
                    idle_ms,
                    start,
                    count=transport.batch_size,
                )
            except transport._response_error as exc:
                if "NOGROUP" in str(exc):
                    return  # the consume loop makes it again
                raise
            if deleted:
                logger.warning(
                    "pending_entries_trimmed",
                    stream=stream,
                    listener=self.listener.name,
                    entry_ids=[entry_id.decode() for entry_id in deleted],
                    hint="raise maxlen: entries were trimmed before a consumer acknowledged them",
                )
            if entries:
                deliveries = await self._delivery_counts(stream, [i for i, _ in entries])
                logger.info(
                    "entries_reclaimed",
                    stream=stream,
                    listener=self.listener.name,
                    count=len(entries),
                )
                for entry_id, fields in entries:
                    entry = Entry(stream, entry_id, fields.get(b"data", b""), deliveries[entry_id])
                    await transport._run(self, [entry])
            if start in (b"0-0", "0-0"):
                return

    async def _delivery_counts(self, stream: str, ids: list[bytes]) -> dict[bytes, int]:
        pending = await self.transport._require_client().xpending_range(
            stream, self.listener.name, min=min(ids), max=max(ids), count=len(ids) * 4,
            consumername=self.transport.consumer_name,
        )  # fmt: skip
        counts = {item["message_id"]: int(item["times_delivered"]) for item in pending}
        return {entry_id: counts.get(entry_id, 1) for entry_id in ids}


class RedisFeed(BroadcastFeed):
    """A pub/sub connection on the channels (and channel patterns) of broadcast events."""

    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def receive(self) -> bytes | None:
        message = await self.pubsub.get_message(timeout=None)
        return None if message is None else message["data"]

    async def close(self) -> None:
        await self.pubsub.aclose()


def _unparsed(response: Any, **options: Any) -> Any:
    return response


def _data(fields: list[bytes] | None) -> bytes:
    """The `data` field of an entry's [field, value, ...] list (b"" when it has none)."""
    if fields and fields[0] == b"data":  # what ravyn and the docs' producers write
        return fields[1]
    fields = fields or []
    return dict(zip(fields[::2], fields[1::2], strict=False)).get(b"data", b"")


def _ids_by_stream(batch: Sequence[Entry]) -> dict[str, list[Any]]:
    by_stream: dict[str, list[Any]] = {}
    for entry in batch:
        ids = by_stream.get(entry.stream)
        if ids is None:
            by_stream[entry.stream] = [entry.id]
        else:
            ids.append(entry.id)
    return by_stream
