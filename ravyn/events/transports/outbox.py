"""The bounded local buffer between `emit` and the server.

`publish` returns as soon as the encoded event is queued, so emitting costs no round trip,
and one flusher ships everything queued as one batch (one Redis script call, a burst of
JetStream publishes whose acks are counted together). While the server is unreachable the flusher
retries with backoff and the queue keeps what was emitted, up to `max_buffer` events; an
emit that finds it full waits `buffer_timeout` for room, then raises TransportUnavailable
with the event id in the log. Loss is never silent: events still queued when the process
stops past its grace period are logged by id.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

import structlog

from ravyn.events.envelope import Event
from ravyn.events.transports.backoff import Backoff
from ravyn.events.transports.contract import TransportUnavailable

logger = structlog.get_logger("ravyn.events.transports")

Outgoing = tuple[Event, bytes]


class Outbox:
    def __init__(
        self,
        send: Callable[[list[Outgoing]], Awaitable[None]],
        *,
        transport: str,
        max_buffer: int = 10_000,
        max_batch: int = 512,
        buffer_timeout: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        self._send = send
        self._transport = transport
        self.max_buffer = max_buffer
        self.max_batch = max_batch
        self.buffer_timeout = buffer_timeout
        self._backoff = backoff or Backoff()
        self._queue: deque[Outgoing] = deque()
        self._in_flight: list[Outgoing] = []
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._shipped_more = asyncio.Event()
        self._queued_count = 0  # events ever queued, and ever shipped: what flush compares
        self._shipped_count = 0
        self._flusher: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._queue) + len(self._in_flight)

    async def put(self, event: Event, data: bytes) -> None:
        queue = self._queue
        if len(queue) + len(self._in_flight) >= self.max_buffer:
            await self._wait_for_room_or_fail(event)
        queue.append((event, data))
        self._queued_count += 1
        queued = len(queue)
        if queued == 1:  # the queue was empty: the flusher may be asleep
            self._empty.clear()
            self._wake.set()
        elif queued % self.max_batch == 0:
            # A full batch is waiting: let the flusher ship it now rather than after the
            # emitter's next await, so that a burst reaches consumers while it is emitted.
            await asyncio.sleep(0)

    async def _wait_for_room_or_fail(self, event: Event) -> None:
        try:
            await asyncio.wait_for(self._wait_for_room(), self.buffer_timeout)
        except TimeoutError:
            logger.error(
                "event_not_sent",
                transport=self._transport,
                event_name=event.name,
                event_id=event.id,
                queued=len(self),
                reason="server unreachable and local buffer full",
            )
            raise TransportUnavailable(
                f"{self._transport} is unreachable and {len(self)} events wait in the "
                f"local buffer (max_buffer={self.max_buffer}); event {event.id} not sent"
            ) from None

    async def _wait_for_room(self) -> None:
        while len(self) >= self.max_buffer:
            self._room.clear()
            await self._room.wait()

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush(), name=f"ravyn-{self._transport}-flusher")

    async def stop(self, timeout: float) -> list[Outgoing]:
        """Flush for up to `timeout` seconds, then stop; return (and log) what did not leave."""
        if self._flusher is None:
            return []
        left = await self._drain(timeout)
        self._flusher.cancel()
        await asyncio.gather(self._flusher, return_exceptions=True)
        self._flusher = None
        return left

    async def _flush(self) -> None:
        """The flusher: ship what is queued, batch after batch, retrying until it is taken."""
        while True:
            if not self._queue:
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            take = min(len(self._queue), self.max_batch)
            self._in_flight = [self._queue.popleft() for _ in range(take)]
            attempt = 0
            while True:
                try:
                    await self._send(self._in_flight)
                    break
                except Exception as exc:
                    attempt += 1
                    delay = self._backoff.delay(attempt)
                    logger.warning(
                        "publish_retry",
                        transport=self._transport,
                        error=repr(exc),
                        attempt=attempt,
                        queued=len(self),
                        retry_in=round(delay, 3),
                    )
                    await asyncio.sleep(delay)
            if attempt:
                logger.info("publish_resumed", transport=self._transport, attempts=attempt)
            self._shipped_count += len(self._in_flight)
            self._shipped_more.set()
            self._in_flight = []
            self._room.set()

    async def flush(self, timeout: float) -> None:
        """Return once every event queued before the call has shipped; TransportUnavailable
        after `timeout` seconds (the server is unreachable)."""
        target = self._queued_count
        try:
            async with asyncio.timeout(timeout):
                while self._shipped_count < target:
                    self._shipped_more.clear()
                    await self._shipped_more.wait()
        except TimeoutError:
            raise TransportUnavailable(
                f"{self._transport} did not take {target - self._shipped_count} queued "
                f"events within {timeout}s: is the server reachable?"
            ) from None

    async def _drain(self, timeout: float) -> list[Outgoing]:
        try:
            if len(self):
                await asyncio.wait_for(self._empty.wait(), timeout)
            return []
        except TimeoutError:
            left = [*self._in_flight, *self._queue]
            if not left:  # the last batch left just as the time ran out
                return []
            logger.error(
                "events_not_sent",
                transport=self._transport,
                count=len(left),
                event_ids=[event.id for event, _ in left],
                reason="server unreachable until the end of the grace period",
            )
            return left
