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
Broadcast listeners subscribe to the core subjects. With `jetstream=False`, nothing is
published to JetStream and durable listeners become core queue groups on the core
subjects: once per cluster, but at-most-once and not kept while no process listens.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from ravyn.events.codec import DEFAULT_MAX_EVENT_SIZE, Format
from ravyn.events.transports.base import TransportUnavailable
from ravyn.events.transports.broker import BrokerTransport
from ravyn.events.transports.delivery import Outcome, Verdict
from ravyn.events.transports.outbox import Outgoing
from ravyn.events.transports.subscriptions import Subscriptions, as_subject

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg
    from nats.js import JetStreamContext

    from ravyn.events.bus import EventBus
    from ravyn.events.listener import Listener

logger = structlog.get_logger("ravyn.events.transports.nats")

INVALID_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
INVALID_SUBJECT_TOKEN = re.compile(r"(^|\.)(\*|>)?($|\.)|[\s*>]")
MESSAGE_ID_HEADER = "Nats-Msg-Id"


def _import_nats() -> Any:
    try:
        import nats
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "the NATS event transport needs nats-py: pip install 'ravyn[nats]'"
        ) from None
    return nats


def durable_name(listener_name: str) -> str:
    """A JetStream consumer name for a listener: readable, valid, and unique per listener."""
    digest = hashlib.sha256(listener_name.encode()).hexdigest()[:10]
    return f"{INVALID_NAME_CHARACTERS.sub('_', listener_name)[:200]}_{digest}"


class NATSTransport(BrokerTransport):
    kind = "nats"

    def __init__(
        self,
        servers: list[str] | None = None,
        *,
        jetstream: bool = True,
        subject_prefix: str = "ravyn",
        max_age: float = 7 * 24 * 3600.0,
        max_msgs: int = 1_000_000,
        format: Format = "json",
        secret: str | bytes | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        batch_size: int = 100,
        fetch_timeout: float = 1.0,
        ack_wait: float = 30.0,
        max_deliveries: int = 5,
        max_buffer: int = 10_000,
        buffer_timeout: float = 5.0,
        publish_timeout: float = 5.0,
        connect_timeout: float = 5.0,
    ) -> None:
        super().__init__(
            format=format,
            secret=secret,
            max_event_size=max_event_size,
            max_deliveries=max_deliveries,
            max_buffer=max_buffer,
            buffer_timeout=buffer_timeout,
        )
        self.servers = servers or ["nats://127.0.0.1:4222"]
        self.jetstream = jetstream
        self.prefix = subject_prefix
        self.stream = f"{INVALID_NAME_CHARACTERS.sub('_', subject_prefix).upper()}_EVENTS"
        self.dead_letter_stream = f"{INVALID_NAME_CHARACTERS.sub('_', subject_prefix).upper()}_DEAD"
        self.dead_letter_subject = f"{subject_prefix}.dead"
        self.once_bucket = f"{INVALID_NAME_CHARACTERS.sub('_', subject_prefix)}_once"
        self.max_age = max_age
        self.max_msgs = max_msgs
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        self.ack_wait = ack_wait
        self.publish_timeout = publish_timeout
        self.connect_timeout = connect_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._subscriptions: list[Any] = []

    def subject(self, event_name: str) -> str:
        """The JetStream subject of an event name (once-per-cluster listeners)."""
        return f"{self.prefix}.events.{event_name}"

    def core_subject(self, event_name: str) -> str:
        """The core subject of an event name (broadcast listeners; queue groups without
        JetStream): a message is one event or an array of events."""
        return f"{self.prefix}.core.{event_name}"

    async def start(self, bus: EventBus) -> None:
        """Connect, declare streams and consumers, subscribe, then consume in the background.

        Raises TransportUnavailable when no server can be reached.
        """
        nats = _import_nats()
        subscriptions = self._begin(bus)
        try:
            # Once connected, reconnect forever; the first connection gets `connect_timeout`.
            self._nc = await asyncio.wait_for(
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
        except Exception as exc:
            reason = str(exc) or f"no answer within {self.connect_timeout:g} s"
            raise TransportUnavailable(
                f"cannot reach NATS at {', '.join(self.servers)} ({reason}): "
                "start nats-server -js or fix the URL"
            ) from exc
        # The server refuses a message over its max_payload: refuse such an event at emit.
        self.codec.max_size = min(self.codec.max_size, self._nc.max_payload - 1024)
        try:
            await self._set_up(subscriptions)
        except Exception as exc:
            await self.stop(0)  # no connection or consumer left behind a failed start
            raise TransportUnavailable(self._set_up_failure(exc)) from exc
        self._outbox.start()
        logger.info(
            "transport_started",
            servers=self.servers,
            jetstream=self.jetstream,
            durable_listeners=[listener.name for listener, _ in subscriptions.durable],
            broadcast=sorted(subscriptions.broadcast),
        )

    async def _set_up(self, subscriptions: Subscriptions) -> None:
        """Declare the streams and consumers, subscribe, and consume in the background."""
        if self.jetstream:
            self._js = self._require_connection().jetstream()
            await self._declare_streams()
        for listener, names in subscriptions.durable:
            if self.jetstream:
                subjects = [self.subject(as_subject(name)) for name in names]
                subscription = await self._durable_consumer(listener, subjects)
                self._tasks.spawn(self._consume(listener, subjects, subscription), waiting=True)
            else:
                for name in names:
                    await self._subscribe(
                        self.core_subject(as_subject(name)),
                        self._queue_handler(listener),
                        queue=durable_name(listener.name),
                    )
        for name in sorted(subscriptions.broadcast):
            await self._subscribe(self.core_subject(as_subject(name)), self._on_broadcast)
        await self._require_connection().flush()

    def _set_up_failure(self, exc: Exception) -> str:
        import nats.js.errors

        if isinstance(exc, nats.js.errors.ServiceUnavailableError | nats.errors.NoRespondersError):
            return (
                f"NATS at {self.servers} has no JetStream ({exc!r}): start nats-server with -js, "
                "or use NATSTransport(jetstream=False) for at-most-once delivery"
            )
        return f"NATS at {self.servers} refused the transport's set-up: {exc!r}"

    def _check_name(self, name: str) -> None:
        if INVALID_SUBJECT_TOKEN.search(name):
            raise ValueError(
                f"event name {name!r} cannot be a NATS subject: use letters, digits, "
                "'_', '-' and '.' between non-empty parts"
            )

    async def acquire_once(self, key: str, ttl: float) -> bool:
        if self._js is None:
            raise RuntimeError(
                "acquire_once on NATS needs JetStream: NATSTransport(jetstream=True)"
            )
        nats = _import_nats()
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

    async def _stop_receiving(self) -> None:
        for subscription in self._subscriptions:
            await subscription.unsubscribe()
        self._subscriptions.clear()

    async def _disconnect(self) -> None:
        if self._nc is not None:
            await self._nc.close()  # flushes the acks already written
            self._nc = None
            self._js = None

    # --- publishing ------------------------------------------------------------------------

    async def _send(self, batch: list[Outgoing]) -> None:
        nc = self._require_connection()
        if not nc.is_connected:
            # nats-py would take the messages into its own buffer while it reconnects, and
            # drop them unlogged if the process stops first: keep them in the outbox instead.
            raise TransportUnavailable(f"NATS at {self.servers} is unreachable (reconnecting)")
        for name, frame in self._frames(batch):
            await nc.publish(self.core_subject(name), frame)
        if self._js is None:
            return
        # Publish the whole batch, then await the acks together. The message id lets the
        # server drop the copy a retried batch may send again.
        acks = [
            await self._js.publish_async(
                self.subject(event.name), data, headers={MESSAGE_ID_HEADER: event.id}
            )
            for event, data in batch
        ]
        await asyncio.wait_for(asyncio.gather(*acks), self.publish_timeout)

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
        )
        dead = StreamConfig(
            name=self.dead_letter_stream,
            subjects=[self.dead_letter_subject],
            storage=StorageType.FILE,
            max_age=self.max_age,
            max_msgs=self.max_msgs,
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
    ) -> Any:
        """Create (or find) the listener's durable consumer and bind to it. A new consumer
        starts at the end of the stream, or at `since` when it replaces a lost one."""
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
        return await js.pull_subscribe_bind(durable=name, stream=self.stream)

    async def _consume(self, listener: Listener, subjects: list[str], subscription: Any) -> None:
        failures = 0
        caught_up_at = datetime.now(UTC)  # everything before was fetched and settled
        while not self._tasks.stopping:
            try:
                if failures:
                    await self._recover(listener, subjects, caught_up_at)
                self._tasks.waiting(True)
                fetch_started = datetime.now(UTC)
                messages = await self._fetch(subscription)
                self._tasks.waiting(False)
            except Exception as exc:  # lost connection, server error: the loop must go on
                self._tasks.waiting(False)
                failures += 1
                await self._tasks.pause("consume", exc, failures, listener=listener.name)
                continue
            if failures:
                logger.info("consume_resumed", listener=listener.name)
                failures = 0
            if not messages:
                caught_up_at = fetch_started
                continue
            outcomes = await self._require_deliveries().run_batch(
                listener,
                [(message.data, message.metadata.num_delivered) for message in messages],
                keep_alive=functools.partial(self._in_progress, messages),
                every=self.ack_wait / 3,
            )
            for message, outcome in zip(messages, outcomes, strict=True):
                await self._settle(listener, message, outcome)

    async def _fetch(self, subscription: Any) -> list[Msg]:
        """The next batch, or [] when there was nothing to fetch within `fetch_timeout`."""
        try:
            return await subscription.fetch(self.batch_size, timeout=self.fetch_timeout)
        except TimeoutError:  # nats-py raises its own TimeoutError or asyncio's
            return []

    async def _recover(self, listener: Listener, subjects: list[str], since: datetime) -> None:
        """After a failed fetch: if the server lost the listener's consumer (or the stream:
        its storage was wiped, someone deleted it), make them again, reading from `since`
        so that the events published meanwhile are not skipped. The subscription fetches
        by consumer name, so it goes on with the new one."""
        import nats.js.errors

        try:
            await self._require_jetstream().consumer_info(self.stream, durable_name(listener.name))
            return
        except nats.js.errors.NotFoundError:
            logger.warning("consumer_lost", listener=listener.name, since=since.isoformat())
        await self._declare_streams()
        await self._durable_consumer(listener, subjects, since=since)

    @staticmethod
    async def _in_progress(messages: list[Msg]) -> None:
        """Restart the ack_wait of messages still being worked on."""
        await asyncio.gather(*(message.in_progress() for message in messages))

    async def _settle(self, listener: Listener, message: Msg, outcome: Outcome) -> None:
        try:
            if outcome.verdict is Verdict.DEAD:
                await self._dead_letter(listener, message, outcome)
            await message.ack()
        except Exception as exc:
            # Not acknowledged: the server redelivers after ack_wait.
            logger.warning("ack_failed", listener=listener.name, error=repr(exc))

    async def _dead_letter(self, listener: Listener, message: Msg, outcome: Outcome) -> None:
        headers = {
            "Ravyn-Listener": listener.name,
            "Ravyn-Subject": message.subject,
            "Ravyn-Deliveries": str(message.metadata.num_delivered),
            "Ravyn-Error": outcome.error.replace("\r", " ").replace("\n", " ")[:2000],
            "Ravyn-Failed-At": datetime.now(UTC).isoformat(),
        }
        await self._require_jetstream().publish(
            self.dead_letter_subject, message.data, headers=headers
        )

    async def _once_bucket(self) -> Any:
        import nats.js.errors

        js = self._require_jetstream()
        try:
            return await js.key_value(self.once_bucket)
        except nats.js.errors.BucketNotFoundError:
            return await js.create_key_value(bucket=self.once_bucket, history=1)

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
                outcome = await deliveries.durable(listener, data, delivery=1)
                if outcome.verdict is not Verdict.ACK:
                    logger.error(
                        "event_dropped",
                        listener=listener.name,
                        error=outcome.error,
                        reason="jetstream=False: no redelivery, no dead letters",
                    )

        return run_once_in_the_group

    # --- plumbing --------------------------------------------------------------------------

    async def _on_disconnected(self) -> None:
        if not self._tasks.stopping:
            logger.warning("nats_disconnected", servers=self.servers)

    async def _on_reconnected(self) -> None:
        logger.info("nats_reconnected", servers=self.servers)

    async def _on_error(self, exc: Exception) -> None:
        # Before the first connection, start() raises one error saying it all.
        log = logger.warning if self._nc is not None else logger.debug
        log("nats_error", error=repr(exc))

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
