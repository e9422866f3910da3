"""What a transport promises the bus, and the little it may ask of the bus in return.

A transport carries events between processes. The bus hands it every emitted event
(`publish`) and, at `start`, a `Receiver`: the transport delivers what arrives through
`receiver.deliver(event, listener)` (durable scope: once per cluster, the message is
acknowledged when it returns and dead-lettered when it raises), or for a fetched batch
`receiver.deliver_many(events, listener)` (the same, with one outcome per event), or
`receiver.deliver_local_many(events, broadcast_only=True)` (broadcast scope: once per
process, the events of one message at once). `receiver.registry` says which listeners
this process holds, so which subscriptions to make.

This module is the whole contract: a transport never imports the bus. A broker with
consumer groups and pub/sub is best built on `broker.BrokerTransport`, which already does
encoding, batching, delivery, the consume loop and shutdown (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ravyn.events.envelope import Event
    from ravyn.events.listener import Listener
    from ravyn.events.registry import Registry


class TransportUnavailable(ConnectionError):
    """The transport cannot take the event now (server unreachable and local buffer full)."""


class Receiver(Protocol):
    """The side of the bus a transport sees (an `EventBus` is one)."""

    @property
    def registry(self) -> Registry:
        """The listeners of this process: what to subscribe to."""

    async def deliver(self, event: Event, listener: Listener) -> None:
        """Run one listener with its policy; raises its final failure (then dead-letter)."""

    async def deliver_many(
        self, events: Sequence[Event], listener: Listener
    ) -> list[BaseException | None]:
        """`deliver` for each event of a fetched batch, concurrently (within the listener's
        `max_concurrency`), far cheaper than a task per event: each event's final failure,
        None when it succeeded, in order. A failure that is not an `Exception` (a
        cancellation) leaves the batch unsettled. Cancelled, it cancels the executions."""

    async def deliver_local_many(
        self, events: Sequence[Event], broadcast_only: bool = False
    ) -> None:
        """Run the matching local listeners of each event, each isolated from the others."""


@runtime_checkable
class Transport(Protocol):
    async def start(self, receiver: Receiver) -> None:
        """Connect; one durable consumer per non-broadcast listener, one broadcast feed.
        Raises TransportUnavailable when the broker cannot be reached."""

    async def publish(self, event: Event) -> None:
        """Hand the event over; raises TransportUnavailable when it cannot."""

    async def flush(self, timeout: float) -> None:
        """Return once the broker stored every event published before the call; raise
        TransportUnavailable if that takes over `timeout` seconds (an outbox relay marks
        events sent only after this)."""

    async def stop(self, grace_period: float) -> None:
        """Stop fetching, finish and acknowledge in-flight work within the grace period."""

    async def acquire_once(self, key: str, ttl: float) -> bool:
        """True for the first caller in the cluster for `key` within `ttl` seconds."""
