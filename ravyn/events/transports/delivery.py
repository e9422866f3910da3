"""What a consumer does with one message, whatever the transport.

Both transports share the same rules, so they live here once: decode and verify (a refused
message is logged and, on a durable scope, dead-lettered and acknowledged so that it never
loops); run the listener through the bus; then tell the transport to acknowledge, or to
dead-letter when the listener failed its last attempt. Broadcast deliveries are
at-most-once per process: a window of recently seen event ids drops the copy that a publish
retried after a lost connection may produce.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from ravyn.events.codec import Codec, DecodeError
from ravyn.events.registry import matches

if TYPE_CHECKING:
    from ravyn.events.envelope import Event
    from ravyn.events.listener import Listener
    from ravyn.events.transports.contract import Receiver

logger = structlog.get_logger("ravyn.events.transports")


class Verdict(enum.Enum):
    ACK = "ack"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Settlement:
    """What becomes of one message: acknowledged, or dead-lettered with the error."""

    verdict: Verdict
    error: str = ""


ACK = Settlement(Verdict.ACK)


class SeenIds:
    """Recently seen event ids: at least the last `size`, at most the last 2 x `size`.

    Two generations of plain sets: cheaper per id than an ordered dict, and a whole
    generation is forgotten at once when the current one is full.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._current: set[str] = set()
        self._previous: set[str] = set()

    def fresh(self, events: list[Event]) -> list[Event]:
        """The events whose id was not seen yet (each remembered from now on)."""
        current, previous = self._current, self._previous
        kept = []
        for event in events:
            event_id = event.id
            if event_id in current or event_id in previous:
                continue
            current.add(event_id)
            kept.append(event)
        if len(current) >= self.size:
            self._previous, self._current = current, set()
        return kept


class Deliveries:
    """Runs what a consumer received and says what becomes of the message.

    Retrying is the listener's own `retry=` policy, applied by `receiver.deliver` in the consumer
    that took the message, so a listener behaves the same with or without a transport. The
    broker redelivers only what a consumer took and never settled (it died, or lost its
    connection); after `max_deliveries` such deliveries the message is dead-lettered without
    running again, so an event that crashes its consumers cannot loop forever.
    """

    def __init__(
        self,
        receiver: Receiver,
        codec: Codec,
        *,
        transport: str,
        max_deliveries: int,
        first_sight: Callable[[str, float], Awaitable[bool]] | None = None,
        replay_window: float | None = None,
    ) -> None:
        """`first_sight(key, ttl)` (the transport's `acquire_once`) with `replay_window`
        seconds: a new message whose event id a listener already received within the window
        is a replay (or a duplicate publish) and is acknowledged without running."""
        self.receiver = receiver
        self.codec = codec
        self.transport = transport
        self.max_deliveries = max_deliveries
        self._first_sight = first_sight if replay_window else None
        self._replay_window = replay_window or 0.0
        self._seen = SeenIds()

    async def durable(self, listener: Listener, data: bytes, delivery: int) -> Settlement:
        """Run `listener` for this message; `delivery` counts from 1."""
        admitted = self._admit(listener, data, delivery)
        if self._first_sight is not None:
            admitted = await self._unless_replayed(listener, admitted, delivery)
        if isinstance(admitted, Settlement):
            return admitted
        try:
            await self.receiver.deliver(admitted, listener)
        except Exception as exc:
            return self._failed(admitted, listener, delivery, exc)
        return ACK

    def _admit(self, listener: Listener, data: bytes, delivery: int) -> Event | Settlement:
        """The event to run, or what becomes of a message that must not run (refused, not
        the listener's, delivered too often). Synchronous: a batch admits its messages
        without a coroutine each."""
        try:
            event = self.codec.decode(data)
        except DecodeError as exc:
            self._refused(exc, listener=listener.name)
            return Settlement(Verdict.DEAD, error=f"refused: {exc}")
        if event.name not in listener.events and not any(
            matches(pattern, event.name) for pattern in listener.events
        ):
            return ACK  # a broker wildcard wider than the listener's pattern
        if delivery > self.max_deliveries:
            error = (
                f"delivered {delivery - 1} times without an outcome (its consumers died or "
                "lost their connection while running it)"
            )
            self._dead(event, listener, delivery, error)
            return Settlement(Verdict.DEAD, error=error)
        return event

    async def _unless_replayed(
        self, listener: Listener, admitted: Event | Settlement, delivery: int
    ) -> Event | Settlement:
        """With `replay_window`: ACK (not run) for a new message whose event id this listener
        already received within the window."""
        if (
            isinstance(admitted, Settlement)
            or self._first_sight is None
            or delivery != 1  # a redelivery of the same message is not a replay
            or await self._first_sight(f"replay:{listener.name}:{admitted.id}", self._replay_window)
        ):
            return admitted
        logger.warning(
            "event_replay_refused",
            transport=self.transport,
            event_name=admitted.name,
            event_id=admitted.id,
            listener=listener.name,
            reason="this listener already received this event id within replay_window",
        )
        return ACK

    def _failed(
        self, event: Event, listener: Listener, delivery: int, exc: Exception
    ) -> Settlement:
        error = f"{type(exc).__name__}: {exc}"
        self._dead(event, listener, delivery, error)
        return Settlement(Verdict.DEAD, error=error)

    async def run_batch(
        self,
        listener: Listener,
        messages: list[tuple[bytes, int]],
        *,
        keep_alive: Callable[[], Awaitable[object]],
        every: float,
    ) -> list[Settlement]:
        """Outcomes of a fetched batch of (data, delivery), run concurrently; one after the
        other (in order) with `max_concurrency=1`.

        Concurrently means through `receiver.deliver_many`: each listener call starts at
        once and only one that suspends costs a task, where a task per message would cost
        more than a quick listener itself. Until they are settled, `keep_alive` tells the
        broker every `every` seconds that the messages are still being worked on: else a
        listener that runs past the visibility timeout (Redis) or ack wait (NATS) gets a
        second copy in another process.
        """
        # A timer, not a task per batch: most batches end long before the first beat.
        beating: list[asyncio.Task[None]] = []
        timer = asyncio.get_running_loop().call_later(
            every,
            lambda: beating.append(
                asyncio.create_task(self._keep_alive(listener, keep_alive, every))
            ),
        )
        try:
            if listener.policy.max_concurrency == 1 or len(messages) == 1:
                return [await self.durable(listener, data, delivery) for data, delivery in messages]
            return await self._run_together(listener, messages)
        finally:
            timer.cancel()
            for heartbeat in beating:
                heartbeat.cancel()

    async def _run_together(
        self, listener: Listener, messages: list[tuple[bytes, int]]
    ) -> list[Settlement]:
        admitted = [self._admit(listener, data, delivery) for data, delivery in messages]
        if self._first_sight is not None:  # one replay check per message, round trips together
            admitted = await asyncio.gather(
                *(
                    self._unless_replayed(listener, outcome, delivery)
                    for outcome, (_, delivery) in zip(admitted, messages, strict=True)
                )
            )
        events = [outcome for outcome in admitted if not isinstance(outcome, Settlement)]
        settlements = [outcome if isinstance(outcome, Settlement) else ACK for outcome in admitted]
        if not events:
            return settlements
        errors = await self.receiver.deliver_many(events, listener)
        if errors.count(None) == len(errors):  # the usual batch: every listener call returned
            return settlements
        positions = [
            position
            for position, outcome in enumerate(admitted)
            if not isinstance(outcome, Settlement)
        ]
        for position, event, error in zip(positions, events, errors, strict=True):
            if error is None:
                continue
            if not isinstance(error, Exception):
                raise error  # a cancellation: the batch stays unsettled, to be delivered again
            settlements[position] = self._failed(event, listener, messages[position][1], error)
        return settlements

    async def _keep_alive(
        self, listener: Listener, keep_alive: Callable[[], Awaitable[object]], every: float
    ) -> None:
        """Tell the broker now, then every `every` seconds, until cancelled."""
        while True:
            try:
                await keep_alive()
            except Exception as exc:  # the broker may redeliver: at-least-once still holds
                logger.warning(
                    "keep_alive_failed",
                    transport=self.transport,
                    listener=listener.name,
                    error=repr(exc),
                )
            await asyncio.sleep(every)

    def _dead(self, event: Event, listener: Listener, delivery: int, error: str) -> None:
        logger.error(
            "event_dead_lettered",
            transport=self.transport,
            event_name=event.name,
            event_id=event.id,
            listener=listener.name,
            delivery=delivery,
            error=error,
        )

    async def broadcast(self, message: bytes) -> None:
        """Run the broadcast listeners for each event of the message, each id once."""
        events, refused = self.codec.decode_message(message)
        for exc in refused:
            self._refused(exc, listener=None)
        fresh = self._seen.fresh(events)
        if fresh:
            await self.receiver.deliver_local_many(fresh, broadcast_only=True)

    def unframe(self, message: bytes) -> list[bytes]:
        """The encoded events of a message that may carry several; [] (logged) if malformed."""
        try:
            return self.codec.unframe(message)
        except DecodeError as exc:
            self._refused(exc, listener=None)
            return []

    def _refused(self, exc: DecodeError, listener: str | None) -> None:
        logger.warning(
            "event_refused",
            transport=self.transport,
            listener=listener,
            reason=str(exc),
            kind=type(exc).__name__,
        )
