"""EventBus: the front of the event system: lifecycle, emit, deliver.

Fan-out and execution live in ``fanout.py``, listener policy in ``policy.py``, backpressure
in ``capacity.py`` and the making of an event in ``tracing.py``; the bus decides which of
them an event goes through (a transport, deferral, waiting) and when it may run at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from ravyn.events.capacity import Capacity
from ravyn.events.context import current_bus_var, current_event_var, emit_sink_var
from ravyn.events.envelope import Event
from ravyn.events.errors import BusClosedError
from ravyn.events.fanout import BusTap, FanOut, Wave
from ravyn.events.listener import Listener
from ravyn.events.metrics import Metrics
from ravyn.events.registry import Registry, active_registry, default_registry
from ravyn.events.tracing import make_events

if TYPE_CHECKING:
    from ravyn.events.transports.contract import Transport

logger = structlog.get_logger("ravyn.events")

_NEW, _RUNNING, _STOPPING, _STOPPED = "new", "running", "stopping", "stopped"


class EventBus:
    """Emits events and runs the listeners of this process, each isolated from the others.

    Without a transport, ``emit`` fans out to local listeners. With one, ``emit`` only
    publishes, and listeners run when the transport delivers the event back
    (``deliver`` / ``deliver_local_many``), so a once-per-cluster listener never runs twice.

    A started bus (``async with bus``) lets listener work that suspends run on in a task
    while the emitter goes on; ``stop()`` drains it. An unstarted bus runs each fan-out to
    completion inside ``emit``, so scripts and tests need no set-up.
    """

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        transport: Transport | None = None,
        max_in_flight: int = 10_000,
        grace_period: float = 10.0,
    ) -> None:
        self.registry = registry if registry is not None else active_registry()
        self.transport = transport
        self.grace_period = grace_period
        self.metrics = Metrics()
        self.taps: list[BusTap] = []
        self._capacity = Capacity(max_in_flight)
        self._fanout = FanOut(self, self.registry, self.metrics, self._capacity, self.taps)
        self._state = _NEW
        self._closers: list[Callable[[], Awaitable[Any]]] = []

    @property
    def max_in_flight(self) -> int:
        return self._capacity.max_in_flight

    # -- lifecycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._state == _RUNNING

    @property
    def stopped(self) -> bool:
        """True once ``stop()`` ran: new events are refused until ``start()`` again."""
        return self._state == _STOPPED

    async def start(self) -> None:
        """Accept events, letting listener work run on in tasks; start the transport."""
        if self._state == _RUNNING:
            return
        self._state = _RUNNING
        self._fanout.stopping = False
        self._fanout.runner()
        if self.transport is not None:
            try:
                await self.transport.start(self)
            except BaseException:
                self._state = _NEW  # not running: a later start() tries the transport again
                raise
        logger.info("bus_started", listeners=len(self.registry.listeners))

    async def stop(self) -> None:
        """Refuse new events, wait up to ``grace_period`` for in-flight listeners, then
        cancel the rest (each cancellation is logged and counted as dropped)."""
        if self._state != _RUNNING:
            return
        self._state = _STOPPING
        self._fanout.stopping = True
        try:
            if self.transport is not None:
                await self.transport.stop(self.grace_period)
        finally:
            with anyio.move_on_after(self.grace_period):
                await self.idle()
            cancelled = self._capacity.in_flight
            await self._fanout.close(self.grace_period)
            await self._run_closers()
            self._state = _STOPPED
            logger.info("bus_stopped", cancelled=cancelled, grace_period=self.grace_period)

    def close_on_stop(self, close: Callable[[], Awaitable[Any]]) -> None:
        """Await ``close()`` once the bus stops (after its listeners): a connection opened
        for the app's calls, such as a rate limiter's Redis client, ends with the app
        instead of leaking until the process exits."""
        self._closers.append(close)

    async def _run_closers(self) -> None:
        closers, self._closers = self._closers, []
        for close in closers:
            try:
                await close()
            except Exception as exc:  # one failing close must not keep the others open
                logger.warning("close_on_stop_failed", error=repr(exc))

    async def __aenter__(self) -> EventBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def idle(self) -> None:
        """Wait until no listener execution is in flight."""
        await self._capacity.idle()

    # -- emitting --------------------------------------------------------------------

    async def emit(
        self,
        name: str,
        payload: Any = None,
        *,
        wait: bool = False,
        defer: bool = False,
        source: str = "",
        headers: dict[str, str] | None = None,
    ) -> Event:
        """Emit one event; with ``wait=True`` return once its local listeners finished.

        By default the listeners start at once, and those that never suspend have finished
        when ``emit`` returns. ``defer=True`` (on a started bus) starts them on the next
        turn of the event loop instead, together with every other deferred event: for
        work that follows a response, where batching the fan-outs is cheaper.

        Inside an emit sink's context (a database session with a transactional outbox) the
        event goes to the sink instead, and is sent once the sink hands it to ``dispatch``.
        """
        if self._state is not _RUNNING:
            self._check_open()
        events = make_events((name,), payload, source, headers)
        pending = self._send(events, wait, defer)
        if pending is not None:
            await pending
        return events[0]

    async def emit_many(
        self,
        names: Iterable[str],
        payload: Any = None,
        *,
        wait: bool = False,
        defer: bool = False,
        source: str = "",
        headers: dict[str, str] | None = None,
    ) -> list[Event]:
        """Emit one event per name with the same payload; their listeners run together.
        ``wait`` and ``defer`` as for ``emit``."""
        if self._state is not _RUNNING:
            self._check_open()
        events = make_events(names, payload, source, headers)
        pending = self._send(events, wait, defer)
        if pending is not None:
            await pending
        return events

    async def dispatch(self, events: Sequence[Event], *, timeout: float = 10.0) -> None:
        """Send events made earlier, as ``emit`` would (to the transport, else to the local
        listeners), keeping their ids and headers: how an outbox relay sends what an emit
        sink took. It never goes to a sink. With a transport it returns once the broker
        stored them (``Transport.flush``, ``TransportUnavailable`` after ``timeout``), so
        the relay may mark them sent."""
        self._check_open()
        await self._dispatch(events, False, False)
        if self.transport is not None:
            await self.transport.flush(timeout)

    # -- delivering (what a transport calls: see transports/contract.py) ---------------

    async def deliver_local(self, event: Event, broadcast_only: bool = False) -> None:
        """Run the local listeners of an event a transport received, each isolated.

        With ``broadcast_only``, only ``broadcast=True`` listeners run (the transport
        delivers the others through their durable consumer groups, via ``deliver``).
        """
        await self.deliver_local_many((event,), broadcast_only)

    async def deliver_local_many(
        self, events: Sequence[Event], broadcast_only: bool = False
    ) -> None:
        """``deliver_local`` for the events of one message (a broadcast batch): the set-up
        of a delivery is paid once for all of them, not once per event."""
        if self._state == _STOPPED:
            raise BusClosedError(
                f"The event bus is stopped; {len(events)} event(s) starting with "
                f"{events[0].name!r} ({events[0].id}) were not delivered. Stop the "
                "transport before the bus."
            )
        wave = Wave(broadcast_only, current_bus_var.get() is not self, False)
        stopped_at = self._fanout.start(events, wave)
        if stopped_at is not None:
            await self._fanout.go_on(events, wave, stopped_at)
        if self._state != _RUNNING:
            await wave.wait()

    async def deliver(self, event: Event, listener: Listener) -> None:
        """Run ONE listener with its policy (timeout, retry, concurrency) in this task.

        Raises the final failure after logging and counting it: a durable transport acks
        on return and retries or dead-letters on raise.
        """
        await self._fanout.deliver(event, listener)

    async def deliver_many(
        self, events: Sequence[Event], listener: Listener
    ) -> list[BaseException | None]:
        """``deliver`` for each event of a batch a durable transport fetched, concurrently:
        each execution starts at once and only one that suspends gets a task. Returns each
        final failure (logged and counted) or None, in order: the transport acks or
        dead-letters each message by it."""
        return await self._fanout.deliver_many(events, listener)

    def catalogue(self) -> dict[str, Any]:
        """What is wired on this bus: see ``Registry.catalogue``."""
        return self.registry.catalogue()

    # -- internals -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state in (_STOPPING, _STOPPED):
            raise BusClosedError(
                f"The event bus is {self._state}: it accepts no new event. Emit while the "
                "app runs (before its shutdown), or start the bus again."
            )

    def _send(
        self, events: Sequence[Event], wait: bool, defer: bool
    ) -> Coroutine[Any, Any, None] | None:
        """Send new events: to the emit sink of the context, if any, else as ``_dispatch``.
        Returns what remains to await, or None when the fan-out was queued at once (a
        deferred emit with nothing to await first: a route's after its response)."""
        sink = emit_sink_var.get()
        if sink is not None:
            return sink.take(events)
        capacity = self._capacity
        if (
            defer
            and not wait
            and self._state is _RUNNING
            and self.transport is None
            and not self.taps
            and capacity.in_flight < capacity.max_in_flight
        ):
            self._fanout.defer(events)
            return None
        return self._dispatch(events, wait, defer)

    async def _dispatch(self, events: Sequence[Event], wait: bool, defer: bool) -> None:
        """Publish the events (with a transport) or fan them out here."""
        if wait and defer:
            raise ValueError("emit(wait=True, defer=True): choose one (waiting cannot defer).")
        for tap in self.taps:
            for event in events:
                tap.emitted(event)
        if self.transport is not None:
            for event in events:
                await self.transport.publish(event)
                self.metrics.for_event(event.name).emitted += 1
            return
        # A listener of this bus never waits for room: it holds a slot itself, so chains
        # could otherwise deadlock a saturated bus. A request or a job also has this bus
        # current, but no current event: it waits, or nothing would bound its listeners.
        may_wait = current_bus_var.get() is not self or current_event_var.get() is None
        if defer and self._state == _RUNNING:
            if may_wait and self._capacity.full:
                name = events[0].name
                await self._capacity.wait_for_room(name, self._fanout.targets(name).counters)
            self._fanout.defer(events)
            return
        wave = Wave(False, may_wait, True)
        stopped_at = self._fanout.start(events, wave)
        if stopped_at is not None:
            await self._fanout.go_on(events, wave, stopped_at)
        if wait or self._state != _RUNNING:
            await wave.wait()


_default_bus: EventBus | None = None


def default_bus() -> EventBus:
    """The process-wide bus (on the default registry) used outside an app."""
    global _default_bus
    if _default_bus is None:
        _default_bus = EventBus(default_registry())
    return _default_bus
