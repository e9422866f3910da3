"""The template of a transport on a broker: what is the same on Redis, NATS and in memory.

It owns encoding and signing, the outbox (batched publishes), the start sequence, the
consume loop (fetch, run through the listener's policy, keep alive, settle), the loop that
survives a lost connection (failures counted, pause with backoff, resume logged), the
broadcast feed loop and the shutdown. A broker subclass adds only its commands:

- `_connect()`: reach the server; raising means unreachable (`TransportUnavailable`).
- `_subscribe_durable(listener, names)`: make the listener's consumer group and hand a
  `DurableConsumer` to `self._spawn_consumer` (a broker that pushes subscribes instead).
- `_subscribe_broadcast(names)`: one feed per process, a `BroadcastFeed` handed to
  `self._spawn_feed` (or a push subscription).
- `_send(batch)`: ship encoded events to both scopes (`self._frames(batch)` packs the
  broadcast side); `acquire_once(key, ttl)`; `_disconnect()`.

Optional hooks: `_prepare()` (before subscribing), `_ready()` (after), `_check_name(name)`,
`_stop_receiving()`, `_set_up_failure(exc)`.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypedDict, TypeVar

import structlog

from ravyn.events.codec import DEFAULT_MAX_EVENT_SIZE, Codec, Format
from ravyn.events.signing import Signer
from ravyn.events.transports.contract import Receiver, TransportUnavailable
from ravyn.events.transports.delivery import Deliveries, Settlement
from ravyn.events.transports.outbox import Outbox, Outgoing
from ravyn.events.transports.subscriptions import Interests
from ravyn.events.transports.tasks import TransportTasks
from ravyn.utils.redaction import redact_credentials

if TYPE_CHECKING:
    from ravyn.events.envelope import Event
    from ravyn.events.listener import Listener

logger = structlog.get_logger("ravyn.events.transports")

FRAME_LIMIT = 256 * 1024
"""Bytes of events put in one broadcast message (under NATS' default max_payload, 1 MiB)."""

MessageT = TypeVar("MessageT")


class DurableConsumer(ABC, Generic[MessageT]):
    """One listener's durable subscription on a broker, as the consume loop drives it."""

    listener: Listener
    keep_alive_every: float
    """Seconds between `keep_alive` calls while a batch runs (a third of the broker's
    visibility timeout / ack wait)."""

    @abstractmethod
    async def fetch(self) -> Sequence[MessageT]:
        """The next batch of messages; empty when none came within the poll timeout."""

    @abstractmethod
    def received(self, message: MessageT) -> tuple[bytes, int]:
        """The encoded event of a message and how many times it was delivered (from 1)."""

    @abstractmethod
    async def keep_alive(self, batch: Sequence[MessageT]) -> None:
        """Tell the broker the messages are still being worked on."""

    @abstractmethod
    async def settle(self, batch: Sequence[MessageT], settlements: Sequence[Settlement]) -> None:
        """Acknowledge each message, dead-lettering first those with the DEAD verdict."""

    async def recover(self) -> None:  # noqa: B027 - most brokers lose nothing
        """After a failed fetch: make again what the broker lost (its consumer, stream)."""


class BroadcastFeed(ABC):
    """A process's broadcast subscription, read by the feed loop."""

    @abstractmethod
    async def receive(self) -> bytes | None:
        """The next message (one event or a frame of several); None for nothing."""

    @abstractmethod
    async def close(self) -> None:
        """Unsubscribe."""


class BrokerOptions(TypedDict, total=False):
    """The options every broker transport takes (defaults in `BrokerTransport`)."""

    format: Format
    secret: str | bytes | None
    max_event_size: int
    max_deliveries: int
    max_buffer: int
    buffer_timeout: float
    replay_window: float | None


class BrokerTransport(ABC):
    kind: ClassVar[str]
    """The broker's name in logs: `redis`."""
    title: ClassVar[str]
    """Its name in messages: `Redis`."""
    unreachable_hint: ClassVar[str]
    """What to do when the broker cannot be reached, said in the start error."""

    def __init__(
        self,
        *,
        format: Format = "json",
        secret: str | bytes | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_deliveries: int = 5,
        max_buffer: int = 10_000,
        buffer_timeout: float = 5.0,
        replay_window: float | None = None,
    ) -> None:
        """`format`: json or msgpack on the wire; `secret`: HMAC key signing every event
        (default from RAVYN_EVENT_SECRET); `max_event_size`: bytes, refused above on both
        sides; `max_deliveries`: deliveries without an outcome before a message is
        dead-lettered; `max_buffer` events wait in the outbox while the broker is away, an
        emit waits `buffer_timeout` seconds for room in a full one; `replay_window`:
        seconds during which a durable listener refuses a second message with an event id
        it already received (a replayed or duplicated event; off by default: it costs one
        broker round trip per event)."""
        self.codec = Codec(format, max_size=max_event_size, signer=Signer.from_environment(secret))
        self.max_deliveries = max_deliveries
        self.replay_window = replay_window
        self._outbox = Outbox(
            self._send, transport=self.kind, max_buffer=max_buffer, buffer_timeout=buffer_timeout
        )
        self._tasks = TransportTasks(self.kind)
        self._deliveries: Deliveries | None = None
        self._checked_names: set[str] = set()
        self._health: dict[str, int] = {}  # loop -> consecutive failures

    @property
    @abstractmethod
    def address(self) -> str:
        """Where the broker is, for logs and errors: credentials masked (redact_credentials)."""

    # --- the contract ----------------------------------------------------------------------

    async def start(self, receiver: Receiver) -> None:
        """Connect, subscribe for every listener of the receiver, consume in the background.

        Raises TransportUnavailable when the broker cannot be reached or refuses the set-up
        (nothing is left connected then): a process that cannot receive its events should
        not look healthy.
        """
        self._tasks = TransportTasks(self.kind)
        self._health = {}
        self._deliveries = Deliveries(
            receiver,
            self.codec,
            transport=self.kind,
            max_deliveries=self.max_deliveries,
            first_sight=self.acquire_once,
            replay_window=self.replay_window,
        )
        interests = Interests.of(receiver.registry)
        try:
            await self._connect()
        except Exception as exc:
            await self._disconnect()
            reason = redact_credentials(str(exc)) or f"no answer: {type(exc).__name__}"
            raise TransportUnavailable(
                f"cannot reach {self.title} at {self.address} ({reason}): {self.unreachable_hint}"
            ) from exc
        try:
            await self._prepare()
            for listener, names in interests.durable:
                await self._subscribe_durable(listener, names)
            if interests.broadcast:
                await self._subscribe_broadcast(interests.broadcast)
            await self._ready()
        except Exception as exc:
            await self.stop(0)
            raise TransportUnavailable(self._set_up_failure(exc)) from exc
        self._outbox.start()
        logger.info(
            "transport_started",
            transport=self.kind,
            address=self.address,
            durable_listeners=[listener.name for listener, _ in interests.durable],
            broadcast=sorted(interests.broadcast),
        )

    async def publish(self, event: Event) -> None:
        """Queue the event for the next batch (see `Outbox` for the buffer's promises)."""
        if event.name not in self._checked_names:
            self._check_name(event.name)
            self._checked_names.add(event.name)
        await self._outbox.put(event, self.codec.encode(event))

    async def flush(self, timeout: float) -> None:
        """Wait until the server took what was published so far (see `Outbox.flush`)."""
        await self._outbox.flush(timeout)

    async def stop(self, grace_period: float) -> None:
        """Stop fetching; give in-flight listeners and queued publishes the grace period.

        What is still running then is cancelled and left unacknowledged, so that another
        consumer gets it (after the broker's visibility timeout / ack wait).
        """
        deadline = time.monotonic() + grace_period
        await self._stop_receiving()
        await self._tasks.stop(deadline)
        await self._outbox.stop(max(0.0, deadline - time.monotonic()))
        await self._disconnect()
        logger.info("transport_stopped", transport=self.kind)

    @abstractmethod
    async def acquire_once(self, key: str, ttl: float) -> bool:
        """True for the first caller in the cluster for `key` within `ttl` seconds."""

    # --- the loops -------------------------------------------------------------------------

    def _spawn_consumer(self, consumer: DurableConsumer[Any]) -> None:
        """Consume `consumer` in the background until the transport stops."""

        async def fetch_and_run() -> None:
            self._tasks.waiting(True)
            try:
                batch = await consumer.fetch()
            finally:
                self._tasks.waiting(False)
            if batch:
                await self._run(consumer, batch)

        loop = self._repeat(
            "consume", fetch_and_run, recover=consumer.recover, listener=consumer.listener.name
        )
        self._tasks.spawn(loop, waiting=True)

    async def _run(self, consumer: DurableConsumer[MessageT], batch: Sequence[MessageT]) -> None:
        """Run a batch through its listener (and its policy), then settle each message."""
        settlements = await self._require_deliveries().run_batch(
            consumer.listener,
            [consumer.received(message) for message in batch],
            keep_alive=functools.partial(consumer.keep_alive, batch),
            every=consumer.keep_alive_every,
        )
        try:
            await consumer.settle(batch, settlements)
        except Exception as exc:
            # Left unacknowledged: the broker delivers them again after its timeout.
            logger.warning(
                "ack_failed",
                transport=self.kind,
                listener=consumer.listener.name,
                error=repr(exc),
            )

    def _spawn_feed(self, feed: BroadcastFeed) -> None:
        """Run each broadcast message of `feed` as it comes. At-most-once: the task is
        always *waiting*, so stop cancels it at once."""
        deliveries = self._require_deliveries()

        async def receive_and_run() -> None:
            message = await feed.receive()
            if message is not None:
                await deliveries.broadcast(message)

        async def listen() -> None:
            try:
                await self._repeat("broadcast", receive_and_run)
            finally:
                await feed.close()

        self._tasks.spawn(listen(), waiting=True)

    async def _repeat(
        self,
        loop: str,
        step: Callable[[], Awaitable[None]],
        *,
        recover: Callable[[], Awaitable[None]] | None = None,
        **context: Any,
    ) -> None:
        """Run `step` until the transport stops. A step that fails (lost connection, server
        error) is logged and tried again after a pause that grows with each failure, with
        `recover` first; the first success after failures is logged. The loop never dies:
        even what is not an `Exception` (a listener calling `sys.exit()`) is logged as a
        crash and the loop goes on, its message left for redelivery and, past
        `max_deliveries`, the dead letters. `health()` shows each loop's failures meanwhile."""
        failures = 0
        name = ":".join([loop, *map(str, context.values())])
        while not self._tasks.stopping:
            try:
                if failures and recover is not None:
                    await recover()
                await step()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                failures += 1
                self._health[name] = failures
                crashed = not isinstance(exc, Exception)
                await self._tasks.pause(loop, exc, failures, crashed=crashed, **context)
                continue
            if failures:
                logger.info(f"{loop}_resumed", transport=self.kind, **context)
                failures = self._health[name] = 0

    def health(self) -> dict[str, Any]:
        """Whether every consume and broadcast loop is working: `{"healthy": bool,
        "failing": {loop: consecutive failures}}` (a loop is `consume:<listener>`)."""
        failing = {name: count for name, count in self._health.items() if count}
        return {"transport": self.kind, "healthy": not failing, "failing": failing}

    # --- broker hooks ----------------------------------------------------------------------

    @abstractmethod
    async def _connect(self) -> None: ...

    async def _prepare(self) -> None:  # noqa: B027 - optional hook
        """Declare what the subscriptions need (streams...) once connected."""

    @abstractmethod
    async def _subscribe_durable(self, listener: Listener, names: tuple[str, ...]) -> None: ...

    @abstractmethod
    async def _subscribe_broadcast(self, names: frozenset[str]) -> None: ...

    async def _ready(self) -> None:  # noqa: B027 - optional hook
        """Make sure the server has taken the subscriptions before start returns."""

    @abstractmethod
    async def _send(self, batch: list[Outgoing]) -> None: ...

    @abstractmethod
    async def _disconnect(self) -> None: ...

    def _check_name(self, name: str) -> None:  # noqa: B027 - optional hook
        """Raise ValueError for an event name the broker cannot carry (any by default)."""

    async def _stop_receiving(self) -> None:  # noqa: B027 - optional hook
        """Stop the subscriptions that are not background tasks (none by default)."""

    def _set_up_failure(self, exc: Exception) -> str:
        """The start error when the broker was reached but refused a declaration."""
        return f"{self.title} at {self.address} refused the transport's set-up: {exc!r}"

    # --- helpers ---------------------------------------------------------------------------

    def _client_library(self, module: str, package: str) -> Any:
        """The broker's client library, imported only when the transport starts (so ravyn
        imports without it), or an ImportError naming the extra that installs it."""
        try:
            return importlib.import_module(module)
        except ImportError:  # pragma: no cover - depends on the installation
            raise ImportError(
                f"the {self.title} event transport needs {package}: install ravyn with its "
                f"'{self.kind}' extra"
            ) from None

    def _frames(self, batch: list[Outgoing]) -> list[tuple[str, bytes]]:
        """(event name, message) for the broadcast side: the batch's events of each name in
        as few messages as fit FRAME_LIMIT, a lone event as itself. Each receiving process
        then pays the broker client's per-message cost once per batch, not once per event."""
        by_name: dict[str, list[bytes]] = {}
        for event, data in batch:
            datas = by_name.get(event.name)
            if datas is None:
                by_name[event.name] = [data]
            else:
                datas.append(data)
        frames = []
        for name, datas in by_name.items():
            if sum(map(len, datas)) + len(datas) <= FRAME_LIMIT:  # the usual case: one frame
                frames.append((name, self._frame(datas)))
                continue
            chunk: list[bytes] = []
            size = 0
            for data in datas:
                if chunk and size + len(data) > FRAME_LIMIT:
                    frames.append((name, self._frame(chunk)))
                    chunk, size = [], 0
                chunk.append(data)
                size += len(data) + 1
            frames.append((name, self._frame(chunk)))
        return frames

    def _frame(self, chunk: list[bytes]) -> bytes:
        return chunk[0] if len(chunk) == 1 else self.codec.frame(chunk)

    def _require_deliveries(self) -> Deliveries:
        if self._deliveries is None:
            raise RuntimeError(f"the {self.kind} transport is not started: start it with the bus")
        return self._deliveries
