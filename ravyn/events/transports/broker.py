"""What a transport does the same on any broker: encoding, buffering, delivery, shutdown.

`RedisTransport` and `NATSTransport` extend it with their broker's commands: `_send` a
batch of encoded events, connect and subscribe in `start`, and `_disconnect`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

import structlog

from ravyn.events.codec import Codec, Format
from ravyn.events.signing import Signer
from ravyn.events.transports.delivery import Deliveries
from ravyn.events.transports.outbox import Outbox, Outgoing
from ravyn.events.transports.subscriptions import Subscriptions
from ravyn.events.transports.tasks import BackgroundTasks

if TYPE_CHECKING:
    from ravyn.events.bus import EventBus
    from ravyn.events.envelope import Event

logger = structlog.get_logger("ravyn.events.transports")

FRAME_LIMIT = 256 * 1024
"""Bytes of events put in one broadcast message (under NATS' default max_payload, 1 MiB)."""


class BrokerTransport:
    kind: ClassVar[str]

    def __init__(
        self,
        *,
        format: Format,
        secret: str | bytes | None,
        max_event_size: int,
        max_deliveries: int,
        max_buffer: int,
        buffer_timeout: float,
    ) -> None:
        self.codec = Codec(format, max_size=max_event_size, signer=Signer.from_environment(secret))
        self.max_deliveries = max_deliveries
        self._outbox = Outbox(
            self._send, transport=self.kind, max_buffer=max_buffer, buffer_timeout=buffer_timeout
        )
        self._tasks = BackgroundTasks(self.kind)
        self._deliveries: Deliveries | None = None
        self._checked_names: set[str] = set()

    def _begin(self, bus: EventBus) -> Subscriptions:
        """Fresh background tasks and delivery rules for a start; what to subscribe to."""
        self._tasks = BackgroundTasks(self.kind)
        self._deliveries = Deliveries(
            bus, self.codec, transport=self.kind, max_deliveries=self.max_deliveries
        )
        return Subscriptions.of(bus.registry)

    async def publish(self, event: Event) -> None:
        """Queue the event for the next batch (see `Outbox` for the buffer's promises)."""
        if event.name not in self._checked_names:
            self._check_name(event.name)
            self._checked_names.add(event.name)
        await self._outbox.put(event, self.codec.encode(event))

    def _check_name(self, name: str) -> None:
        """Raise ValueError for an event name the broker cannot carry (any by default)."""

    async def stop(self, grace_period: float) -> None:
        """Stop fetching; give in-flight listeners and queued publishes the grace period.

        What is still running then is cancelled and left unacknowledged, so that another
        consumer gets it (after `visibility_timeout` on Redis, `ack_wait` on NATS).
        """
        deadline = time.monotonic() + grace_period
        await self._stop_receiving()
        await self._tasks.stop(deadline)
        await self._outbox.stop(max(0.0, deadline - time.monotonic()))
        await self._disconnect()
        logger.info("transport_stopped", transport=self.kind)

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

    async def _stop_receiving(self) -> None:
        """Stop the subscriptions that are not background tasks (none by default)."""

    async def _send(self, batch: list[Outgoing]) -> None:
        raise NotImplementedError

    async def _disconnect(self) -> None:
        raise NotImplementedError
