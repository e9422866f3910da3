"""NATS transport: JetStream for once-per-cluster listeners, core subjects for broadcast.

Every event is published on the subject `{prefix}.events.{event name}` for the durable
listeners, and, with the other events of its batch of the same name (a JSON array), on the
core subject `{prefix}.core.{event name}` for the broadcast ones. With JetStream (the
default) the stream `{PREFIX}_EVENTS` keeps the `events` subjects (bounded by `max_age` and
`max_msgs`), each durable listener is a durable pull consumer named after it, filtered on the
subjects it listens to, and every process holding the listener fetches from it, so each
message runs once in the cluster. A message is acknowledged after the listener returned;
a listener that fails its last attempt (its `retry=` policy, run by `bus.deliver`) has the
message published to the dead-letter subject `{prefix}.dead` (kept in the stream
`{PREFIX}_DEAD`) with the error, then acknowledged. The server redelivers after `ack_wait`
what a dead consumer left unacknowledged, dead-lettered after `max_deliveries`.
With `replicas=N` (a NATS cluster) both streams, the consumers and the `acquire_once` bucket
are kept on N servers: a publish is acknowledged once a majority of them stored it, and
the loss of a minority loses nothing acknowledged (docs/transports.md, "Clustered
brokers"). Broadcast listeners subscribe to the core subjects. With `jetstream=False`, nothing is
published to JetStream and durable listeners become core queue groups on the core
subjects: once per cluster, but at-most-once and not kept while no process listens.

Why one module of ~430 lines: it is the whole of one broker (JetStream, core subjects,
its durable consumer); what every broker shares lives in `broker.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Unpack

import structlog

from ravyn.events.transports.broker import BrokerOptions, BrokerTransport, DurableConsumer
from ravyn.events.transports.contract import TransportUnavailable
from ravyn.events.transports.delivery import Settlement, Verdict
from ravyn.events.transports.nats_publish import BatchPublish
from ravyn.events.transports.nats_pull import BatchPull
from ravyn.events.transports.outbox import Outgoing
from ravyn.events.transports.subscriptions import as_subject
from ravyn.utils.redaction import redact_credentials

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

    from ravyn.events.listener import Listener

logger = structlog.get_logger("ravyn.events.transports.nats")

INVALID_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
INVALID_SUBJECT_TOKEN = re.compile(r"(^|\.)(\*|>)?($|\.)|[\s*>]")
MESSAGE_ID_HEADER = "Nats-Msg-Id"


def delivery_count(message: Msg) -> int:
    """How many times JetStream delivered the message, read from its reply subject:
    `$JS.ACK.<stream>.<consumer>.<count>.<stream seq>.<consumer seq>.<time>.<pending>`, or
    with `<domain>.<account hash>` before the stream. nats-py's `metadata` makes two
    dataclasses and a datetime of it, several µs per message."""
    tokens = (message.reply or "").split(".")
    if tokens[:2] == ["$JS", "ACK"]:
        count = tokens[4] if len(tokens) == 9 else tokens[6] if len(tokens) >= 11 else ""
        if count.isdigit():
            return int(count)
    return message.metadata.num_delivered  # raises: not a JetStream message


def durable_name(listener_name: str) -> str:
    """A JetStream consumer name for a listener: readable, valid, and unique per listener."""
    digest = hashlib.sha256(listener_name.encode()).hexdigest()[:10]
    return f"{INVALID_NAME_CHARACTERS.sub('_', listener_name)[:200]}_{digest}"


class NATSTransport(BrokerTransport):
    kind = "nats"
    title = "NATS"
    unreachable_hint = "start nats-server -js or fix the URL"

    def __init__(
        self,
        servers: list[str] | None = None,
        *,
        jetstream: bool = True,
        subject_prefix: str = "ravyn",
        max_age: float = 7 * 24 * 3600.0,
        max_msgs: int = 1_000_000,
        replicas: int = 1,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        ack_wait: float = 30.0,
        publish_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        **options: Unpack[BrokerOptions],
    ) -> None:
        super().__init__(**options)
        self.servers = servers or ["nats://127.0.0.1:4222"]
        self.jetstream = jetstream
        self.prefix = subject_prefix
        self.stream = f"{INVALID_NAME_CHARACTERS.sub('_', subject_prefix).upper()}_EVENTS"
        self.dead_letter_stream = f"{INVALID_NAME_CHARACTERS.sub('_', subject_prefix).upper()}_DEAD"
        self.dead_letter_subject = f"{subject_prefix}.dead"
        self.once_bucket = f"{INVALID_NAME_CHARACTERS.sub('_', subject_prefix)}_once"
        self.max_age = max_age
        self.max_msgs = max_msgs
        if not 1 <= replicas <= 5:
            raise ValueError(f"replicas={replicas}: JetStream keeps a stream on 1 to 5 servers")
        self.replicas = replicas
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        self.publish_timeout = publish_timeout
        self.connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._subscriptions: list[Any] = []
        self._publishes: BatchPublish | None = None  # with JetStream

    @property
    def address(self) -> str:
        return redact_credentials(", ".join(self.servers))

    def subject(self, event_name: str) -> str:
        """The JetStream subject of an event name (once-per-cluster listeners)."""
        return f"{self.prefix}.events.{event_name}"

    def core_subject(self, event_name: str) -> str:
        """The core subject of an event name (broadcast listeners; queue groups without
        JetStream): a message is one event or an array of events."""
        return f"{self.prefix}.core.{event_name}"

    async def acquire_once(self, key: str, ttl: float) -> bool:
        if self._js is None:
            raise RuntimeError(
                "acquire_once on NATS needs JetStream: NATSTransport(jetstream=True)"
            )
        nats = self._client_library("nats", "nats-py")
        try:
            bucket = await self._once_bucket()
            await bucket.create(
                hashlib.sha256(key.encode()).hexdigest(), b"1", msg_ttl=max(1.0, ttl)
            )
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        except (TimeoutError, nats.errors.Error) as exc:
            raise TransportUnavailable(
                f"NATS unreachable for acquire_once({key!r}): {exc}"
            ) from exc
        return True

    # --- broker hooks ----------------------------------------------------------------------

    async def _connect(self) -> None:
        nats = self._client_library("nats", "nats-py")
        # Once connected, reconnect forever; the first connection gets `connect_timeout`.
        self._nc = connection = await asyncio.wait_for(
            nats.connect(
                servers=self.servers,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                disconnected_cb=self._on_disconnected,
                reconnected_cb=self._on_reconnected,
                error_cb=self._on_error,
            ),
            self.connect_timeout,
        )
        # The server refuses a message over its max_payload: refuse such an event at emit.
        self.codec.max_size = min(self.codec.max_size, connection.max_payload - 1024)

    async def _prepare(self) -> None:
        if self.jetstream:
            self._js = self._require_connection().jetstream()
            await self._declare_streams()
            self._publishes = BatchPublish(self._require_connection())
            await self._publishes.subscribe()

    async def _subscribe_durable(self, listener: Listener, names: tuple[str, ...]) -> None:
        if self.jetstream:
            subjects = [self.subject(as_subject(name)) for name in names]
            await self._durable_consumer(listener, subjects)
            pull = BatchPull(
                self._require_connection(),
                self.stream,
                durable_name(listener.name),
                self.batch_size,
                expires=self.fetch_timeout,
            )
            await pull.subscribe()
            self._subscriptions.append(pull.subscription)
            self._spawn_consumer(NATSConsumer(self, listener, subjects, pull))
            return
        for name in names:
            await self._subscribe(
                self.core_subject(as_subject(name)),
                self._queue_handler(listener),
                queue=durable_name(listener.name),
            )

    async def _subscribe_broadcast(self, names: frozenset[str]) -> None:
        for name in sorted(names):
            await self._subscribe(self.core_subject(as_subject(name)), self._on_broadcast)

    async def _ready(self) -> None:
        await self._require_connection().flush()

    def _set_up_failure(self, exc: Exception) -> str:
        import nats.js.errors

        if isinstance(exc, nats.js.errors.ServiceUnavailableError | nats.errors.NoRespondersError):
            return (
                f"NATS at {self.address} has no JetStream ({exc!r}): start nats-server with -js, "
                "or use NATSTransport(jetstream=False) for at-most-once delivery"
            )
        return super()._set_up_failure(exc)

    def _check_name(self, name: str) -> None:
        if INVALID_SUBJECT_TOKEN.search(name):
            raise ValueError(
                f"event name {name!r} cannot be a NATS subject: use letters, digits, "
                "'_', '-' and '.' between non-empty parts"
            )

    async def _send(self, batch: list[Outgoing]) -> None:
        nc = self._require_connection()
        if not nc.is_connected:
            # nats-py would take the messages into its own buffer while it reconnects, and
            # drop them unlogged if the process stops first: keep them in the outbox instead.
            raise TransportUnavailable(f"NATS at {self.address} is unreachable (reconnecting)")
        for name, frame in self._frames(batch):
            await nc.publish(self.core_subject(name), frame)
        if self._publishes is None:
            return
        # The message id lets the server drop the copy a retried batch may send again.
        await self._publishes.publish(
            [
                (self.subject(event.name), data, {MESSAGE_ID_HEADER: event.id})
                for event, data in batch
            ],
            self.publish_timeout,
        )

    async def _stop_receiving(self) -> None:
        for subscription in self._subscriptions:
            await subscription.unsubscribe()
        self._subscriptions.clear()

    async def _disconnect(self) -> None:
        if self._nc is not None:
            await self._nc.close()  # flushes the acks already written
            self._nc = None
            self._js = None
            self._publishes = None

    # --- JetStream -------------------------------------------------------------------------

    async def _declare_streams(self) -> None:
        from nats.js.api import StorageType, StreamConfig

        js = self._require_jetstream()
        events = StreamConfig(
            name=self.stream,
            subjects=[f"{self.prefix}.events.>"],
            storage=StorageType.FILE,
            max_age=self.max_age,
            max_msgs=self.max_msgs,
            duplicate_window=120.0,
            num_replicas=self.replicas,
        )
        dead = StreamConfig(
            name=self.dead_letter_stream,
            subjects=[self.dead_letter_subject],
            storage=StorageType.FILE,
            max_age=self.max_age,
            max_msgs=self.max_msgs,
            num_replicas=self.replicas,
        )
        for config in (events, dead):
            try:
                await js.add_stream(config)
            except Exception as exc:
                if "already in use" not in str(exc):
                    raise
                await js.update_stream(config)

    async def _durable_consumer(
        self, listener: Listener, subjects: list[str], since: datetime | None = None
    ) -> None:
        """Create (or find) the listener's durable consumer. A new consumer starts at the
        end of the stream, or at `since` when it replaces a lost one."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        js = self._require_jetstream()
        name = durable_name(listener.name)
        config = ConsumerConfig(
            durable_name=name,
            name=name,
            description=listener.name,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait,
            deliver_policy=DeliverPolicy.NEW if since is None else DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            max_deliver=-1,  # the transport counts attempts and dead-letters itself
            max_ack_pending=max(1000, self.batch_size * 4),
            filter_subjects=subjects,
        )
        await js.add_consumer(self.stream, config)

    async def _once_bucket(self) -> Any:
        import nats.js.errors

        js = self._require_jetstream()
        try:
            return await js.key_value(self.once_bucket)
        except nats.js.errors.BucketNotFoundError:
            return await js.create_key_value(
                bucket=self.once_bucket, history=1, replicas=self.replicas
            )

    # --- core subscriptions ----------------------------------------------------------------

    async def _subscribe(self, subject: str, handler: Any, queue: str = "") -> None:
        nc = self._require_connection()
        self._subscriptions.append(await nc.subscribe(subject, queue=queue, cb=handler))

    async def _on_broadcast(self, message: Msg) -> None:
        await self._require_deliveries().broadcast(message.data)

    def _queue_handler(self, listener: Listener) -> Any:
        deliveries = self._require_deliveries()

        async def run_once_in_the_group(message: Msg) -> None:
            for data in deliveries.unframe(message.data):
                settlement = await deliveries.durable(listener, data, delivery=1)
                if settlement.verdict is not Verdict.ACK:
                    logger.error(
                        "event_dropped",
                        listener=listener.name,
                        error=settlement.error,
                        reason="jetstream=False: no redelivery, no dead letters",
                    )

        return run_once_in_the_group

    # --- plumbing --------------------------------------------------------------------------

    async def _on_disconnected(self) -> None:
        if not self._tasks.stopping:
            logger.warning("nats_disconnected", servers=self.address)

    async def _on_reconnected(self) -> None:
        logger.info("nats_reconnected", servers=self.address)

    async def _on_error(self, exc: Exception) -> None:
        # Before the first connection, start() raises one error saying it all.
        log = logger.warning if self._nc is not None else logger.debug
        log("nats_error", error=redact_credentials(repr(exc)))

    def _require_connection(self) -> Client:
        if self._nc is None:
            raise RuntimeError("NATSTransport is not started: start it with the bus")
        return self._nc

    def _require_jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError(
                "NATSTransport has no JetStream: it is not started or jetstream=False"
            )
        return self._js


class NATSConsumer(DurableConsumer["Msg"]):
    """A listener's durable pull consumer on the JetStream stream."""

    def __init__(
        self, transport: NATSTransport, listener: Listener, subjects: list[str], pull: BatchPull
    ) -> None:
        self.transport = transport
        self.listener = listener
        self.subjects = subjects
        self.pull = pull
        self.keep_alive_every = transport.ack_wait / 3
        self.caught_up_at = datetime.now(UTC)  # everything before was fetched and settled

    async def fetch(self) -> list[Msg]:
        """The next batch, or [] when there was nothing to fetch within `fetch_timeout`."""
        fetch_started = datetime.now(UTC)
        if self.pull.drained():
            self.caught_up_at = fetch_started
        messages = await self.pull.fetch()
        if not messages:
            self.caught_up_at = fetch_started
        return messages

    def received(self, message: Msg) -> tuple[bytes, int]:
        return message.data, delivery_count(message)

    async def keep_alive(self, batch: Sequence[Msg]) -> None:
        await asyncio.gather(*(message.in_progress() for message in batch))

    async def settle(self, batch: Sequence[Msg], settlements: Sequence[Settlement]) -> None:
        for message, settlement in zip(batch, settlements, strict=True):
            if settlement.verdict is Verdict.DEAD:
                await self._dead_letter(message, settlement)
            await message.ack()

    async def recover(self) -> None:
        """If the server lost the listener's consumer (or the stream: its storage was wiped,
        someone deleted it), make them again, reading from the last time this consumer was
        caught up so that the events published meanwhile are not skipped. The subscription
        fetches by consumer name, so it goes on with the new one."""
        import nats.js.errors

        transport = self.transport
        try:
            await transport._require_jetstream().consumer_info(
                transport.stream, durable_name(self.listener.name)
            )
            return
        except nats.js.errors.NotFoundError:
            logger.warning(
                "consumer_lost", listener=self.listener.name, since=self.caught_up_at.isoformat()
            )
        await transport._declare_streams()
        await transport._durable_consumer(self.listener, self.subjects, since=self.caught_up_at)

    async def _dead_letter(self, message: Msg, settlement: Settlement) -> None:
        headers = {
            "Ravyn-Listener": self.listener.name,
            "Ravyn-Subject": message.subject,
            "Ravyn-Deliveries": str(message.metadata.num_delivered),
            "Ravyn-Error": settlement.error.replace("\r", " ").replace("\n", " ")[:2000],
            "Ravyn-Failed-At": datetime.now(UTC).isoformat(),
        }
        await self.transport._require_jetstream().publish(
            self.transport.dead_letter_subject, message.data, headers=headers
        )
