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
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from ravyn.events.codec import DEFAULT_MAX_EVENT_SIZE, Format
from ravyn.events.registry import matches
from ravyn.events.transports.base import TransportUnavailable
from ravyn.events.transports.broker import BrokerTransport
from ravyn.events.transports.delivery import Outcome, Verdict
from ravyn.events.transports.outbox import Outgoing
from ravyn.events.transports.subscriptions import Subscriptions, as_glob

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from ravyn.events.bus import EventBus
    from ravyn.events.listener import Listener

logger = structlog.get_logger("ravyn.events.transports.redis")

# KEYS: the stream of each of the N events, then the channel of each broadcast message.
# ARGV: MAXLEN, N, the N encoded events, the broadcast messages.
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

Entry = tuple[bytes, dict[bytes, bytes]]


def _import_redis() -> Any:
    try:
        import redis.asyncio as redis_asyncio
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "the Redis event transport needs redis-py: pip install 'ravyn[redis]'"
        ) from None
    return redis_asyncio


class RedisTransport(BrokerTransport):
    kind = "redis"

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        stream_prefix: str = "ravyn",
        maxlen: int = 100_000,
        dead_letter_maxlen: int = 100_000,
        format: Format = "json",
        secret: str | bytes | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        batch_size: int = 100,
        block: float = 1.0,
        visibility_timeout: float = 30.0,
        max_deliveries: int = 5,
        max_buffer: int = 10_000,
        buffer_timeout: float = 5.0,
        consumer_name: str | None = None,
    ) -> None:
        super().__init__(
            format=format,
            secret=secret,
            max_event_size=max_event_size,
            max_deliveries=max_deliveries,
            max_buffer=max_buffer,
            buffer_timeout=buffer_timeout,
        )
        self.url = url
        self.prefix = stream_prefix
        self.maxlen = maxlen
        self.dead_letter_maxlen = dead_letter_maxlen
        self.batch_size = batch_size
        self.block_ms = int(block * 1000)
        self.visibility_timeout = visibility_timeout
        self.consumer_name = (
            consumer_name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        )
        self.dead_letter_stream = f"{stream_prefix}:dead"
        self._errors: tuple[type[BaseException], ...] = (OSError,)
        self._response_error: type[BaseException] = OSError
        self._client: Redis | None = None

    def key(self, event_name: str) -> str:
        """The stream key and pub/sub channel of an event name."""
        return f"{self.prefix}:{event_name}"

    async def start(self, bus: EventBus) -> None:
        """Connect, create the consumer groups and subscriptions, then consume in the background.

        Raises TransportUnavailable when Redis cannot be reached: a process that cannot
        receive its events should not look healthy.
        """
        redis_asyncio = _import_redis()
        self._errors = (redis_asyncio.RedisError, OSError)
        self._response_error = redis_asyncio.ResponseError
        self._client = redis_asyncio.Redis.from_url(self.url)
        self._publish_script = self._client.register_script(PUBLISH_SCRIPT)
        subscriptions = self._begin(bus)
        try:
            await self._client.ping()
            for listener, names in subscriptions.durable:
                streams = await self._discover(names, start_at="$", known={})
                await self._create_groups(listener.name, streams)
                self._tasks.spawn(self._consume(listener, streams), waiting=True)
                self._tasks.spawn(self._maintain(listener, names, streams), waiting=True)
            if subscriptions.broadcast:
                pubsub = await self._subscribe(subscriptions.broadcast)
                self._tasks.spawn(self._listen_broadcast(pubsub), waiting=True)
        except self._errors as exc:
            await self.stop(0)
            raise TransportUnavailable(
                f"cannot reach Redis at {self.url} ({exc}): start redis-server or fix the URL"
            ) from exc
        self._outbox.start()
        logger.info(
            "transport_started",
            url=self.url,
            consumer=self.consumer_name,
            durable_listeners=[listener.name for listener, _ in subscriptions.durable],
            broadcast=sorted(subscriptions.broadcast),
        )

    async def acquire_once(self, key: str, ttl: float) -> bool:
        try:
            taken = await self._require_client().set(
                f"{self.prefix}:once:{key}", b"1", nx=True, px=max(1, int(ttl * 1000))
            )
        except self._errors as exc:
            raise TransportUnavailable(
                f"Redis unreachable for acquire_once({key!r}): {exc}"
            ) from exc
        return bool(taken)

    async def _disconnect(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- publishing ------------------------------------------------------------------------

    async def _send(self, batch: list[Outgoing]) -> None:
        """One command per batch: a script XADDs each event and PUBLISHes the broadcast
        messages server-side.

        redis-py spends most of a publish on per-command work (packing, reply parsing), so
        one script call for the batch costs less than one pipelined command per event.
        """
        frames = self._frames(batch)
        await self._publish_script(
            keys=[self.key(event.name) for event, _ in batch]
            + [self.key(name) for name, _ in frames],
            args=[self.maxlen, len(batch), *(data for _, data in batch)]
            + [frame for _, frame in frames],
        )

    # --- durable consumers -----------------------------------------------------------------

    async def _discover(
        self, names: tuple[str, ...], *, start_at: str, known: dict[str, str]
    ) -> dict[str, str]:
        """Add to `known` (stream -> read id) the streams of `names`, patterns included.

        A stream found after start is read from its beginning (`start_at="0"`): it was
        created after we last looked, so everything in it is news.
        """
        client = self._require_client()
        wanted = [self.key(name) for name in names if not Subscriptions.is_pattern(name)]
        for name in names:
            if Subscriptions.is_pattern(name):
                glob = as_glob(self.key(name))
                async for key in client.scan_iter(match=glob, _type="STREAM"):
                    stream = key.decode()
                    if matches(name, stream.removeprefix(self.key(""))):
                        wanted.append(stream)
        for stream in wanted:
            if stream not in known and stream != self.dead_letter_stream:
                known[stream] = start_at
        return known

    async def _create_groups(self, group: str, streams: dict[str, str]) -> None:
        client = self._require_client()
        for stream, start_at in streams.items():
            try:
                await client.xgroup_create(stream, group, id=start_at, mkstream=True)
            except self._response_error as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _consume(self, listener: Listener, streams: dict[str, str]) -> None:
        """Read new entries for one listener's group, run them, acknowledge per batch."""
        client = self._require_client()
        failures = 0
        lost_groups = False
        while not self._tasks.stopping:
            try:
                if lost_groups:
                    await self._create_groups(listener.name, dict.fromkeys(streams, "0"))
                    lost_groups = False
                self._tasks.waiting(True)
                reply = await client.xreadgroup(
                    listener.name,
                    self.consumer_name,
                    dict.fromkeys(streams, ">"),
                    count=self.batch_size,
                    block=self.block_ms,
                )
                self._tasks.waiting(False)
            except Exception as exc:  # lost connection, server error: the loop must go on
                self._tasks.waiting(False)
                if "NOGROUP" in str(exc):
                    # Redis lost the group (restarted without persistence): make it again
                    # and read all that the stream still holds, rather than skip it.
                    logger.warning("consumer_group_lost", listener=listener.name)
                    lost_groups = True
                    continue
                failures += 1
                await self._tasks.pause("consume", exc, failures, listener=listener.name)
                continue
            if failures:
                logger.info("consume_resumed", listener=listener.name)
                failures = 0
            for stream, entries in reply or ():
                await self._run_batch(listener, stream.decode(), entries, delivery=1)

    async def _maintain(
        self, listener: Listener, names: tuple[str, ...], streams: dict[str, str]
    ) -> None:
        """Take over entries a dead consumer left pending; find new streams of a pattern."""
        interval = min(1.0, self.visibility_timeout / 2)
        idle_ms = int(self.visibility_timeout * 1000)
        has_patterns = any(Subscriptions.is_pattern(name) for name in names)
        client = self._require_client()
        failures = 0
        while not self._tasks.stopping:
            self._tasks.waiting(True)
            await asyncio.sleep(interval)
            self._tasks.waiting(False)
            try:
                if has_patterns:
                    before = set(streams)
                    await self._discover(names, start_at="0", known=streams)
                    await self._create_groups(
                        listener.name, {s: streams[s] for s in set(streams) - before}
                    )
                for stream in list(streams):
                    await self._reclaim(client, listener, stream, idle_ms)
            except Exception as exc:
                failures += 1
                await self._tasks.pause("reclaim", exc, failures, listener=listener.name)
                continue
            failures = 0

    async def _reclaim(self, client: Redis, listener: Listener, stream: str, idle_ms: int) -> None:
        start = "0-0"
        while True:
            try:
                start, entries, deleted = await client.xautoclaim(
                    stream, listener.name, self.consumer_name, idle_ms, start, count=self.batch_size
                )
            except self._response_error as exc:
                if "NOGROUP" in str(exc):
                    return  # the consume loop recreates it
                raise
            if deleted:
                logger.warning(
                    "pending_entries_trimmed",
                    stream=stream,
                    listener=listener.name,
                    entry_ids=[entry_id.decode() for entry_id in deleted],
                    hint="raise maxlen: entries were trimmed before a consumer acknowledged them",
                )
            if entries:
                deliveries = await self._delivery_counts(client, listener, stream, entries)
                logger.info(
                    "entries_reclaimed", stream=stream, listener=listener.name, count=len(entries)
                )
                for entry in entries:
                    await self._run_batch(listener, stream, [entry], delivery=deliveries[entry[0]])
            if start in (b"0-0", "0-0"):
                return

    async def _delivery_counts(
        self, client: Redis, listener: Listener, stream: str, entries: list[Entry]
    ) -> dict[bytes, int]:
        ids = [entry_id for entry_id, _ in entries]
        pending = await client.xpending_range(
            stream, listener.name, min=min(ids), max=max(ids), count=len(ids) * 4,
            consumername=self.consumer_name,
        )  # fmt: skip
        counts = {item["message_id"]: item["times_delivered"] for item in pending}
        return {entry_id: counts.get(entry_id, 1) for entry_id in ids}

    async def _run_batch(
        self, listener: Listener, stream: str, entries: list[Entry], *, delivery: int
    ) -> None:
        client = self._require_client()
        ids = [entry_id for entry_id, _ in entries]
        outcomes = await self._require_deliveries().run_batch(
            listener,
            [(fields.get(b"data", b""), delivery) for _, fields in entries],
            # XCLAIM by their owner resets the idle time, so XAUTOCLAIM leaves them alone.
            keep_alive=lambda: client.xclaim(
                stream, listener.name, self.consumer_name, 0, ids, justid=True
            ),
            every=self.visibility_timeout / 3,
        )
        pipe = client.pipeline(transaction=False)
        done = []
        for (entry_id, fields), outcome in zip(entries, outcomes, strict=True):
            if outcome.verdict is Verdict.DEAD:
                pipe.xadd(
                    self.dead_letter_stream,
                    self._dead_letter(listener, stream, entry_id, fields, delivery, outcome),
                    maxlen=self.dead_letter_maxlen,
                    approximate=True,
                )
            done.append(entry_id)
        if done:
            pipe.xack(stream, listener.name, *done)
            try:
                await pipe.execute()
            except Exception as exc:
                # The entries stay pending and are reclaimed after visibility_timeout.
                logger.warning("ack_failed", stream=stream, listener=listener.name, error=repr(exc))

    def _dead_letter(
        self,
        listener: Listener,
        stream: str,
        entry_id: bytes,
        fields: dict[bytes, bytes],
        delivery: int,
        outcome: Outcome,
    ) -> dict[str, Any]:
        return {
            "data": fields.get(b"data", b""),
            "stream": stream,
            "entry_id": entry_id,
            "listener": listener.name,
            "deliveries": delivery,
            "error": outcome.error,
            "failed_at": datetime.now(UTC).isoformat(),
        }

    # --- broadcast -------------------------------------------------------------------------

    async def _subscribe(self, names: frozenset[str]) -> Any:
        pubsub = self._require_client().pubsub(ignore_subscribe_messages=True)
        channels = [self.key(name) for name in names if not Subscriptions.is_pattern(name)]
        patterns = [as_glob(self.key(name)) for name in names if Subscriptions.is_pattern(name)]
        if channels:
            await pubsub.subscribe(*channels)
        if patterns:
            await pubsub.psubscribe(*patterns)
        return pubsub

    async def _listen_broadcast(self, pubsub: Any) -> None:
        """Run each broadcast message as it comes; at-most-once, so stop may cancel it."""
        deliveries = self._require_deliveries()
        failures = 0
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=None)
                except Exception as exc:
                    failures += 1
                    await self._tasks.pause("broadcast", exc, failures)
                    continue
                if failures:
                    logger.info("broadcast_resumed")
                    failures = 0
                if message is not None:
                    await deliveries.broadcast(message["data"])
        finally:
            await pubsub.aclose()

    # --- plumbing --------------------------------------------------------------------------

    def _require_client(self) -> Redis:
        if self._client is None:
            raise RuntimeError("RedisTransport is not started: start it with the bus")
        return self._client
