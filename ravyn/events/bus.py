"""EventBus: emit events, fan them out to local listeners, drain at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from contextvars import Context, Token, copy_context
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import structlog

from ravyn.events.context import current_bus_var, current_event_var, request_trace_var
from ravyn.events.eager import SUSPENDED, EagerRunner, Session
from ravyn.events.envelope import CAUSATION_ID, CORRELATION_ID, TRACEPARENT, Event, new_event_id
from ravyn.events.errors import BusClosedError, ListenerBindingError
from ravyn.events.listener import Listener
from ravyn.events.metrics import Counters, Metrics
from ravyn.events.registry import Registry, active_registry, default_registry

if TYPE_CHECKING:
    from ravyn.events.transports.contract import Transport

logger = structlog.get_logger("ravyn.events")

_NEW, _RUNNING, _STOPPING, _STOPPED = "new", "running", "stopping", "stopped"


class BusTap(Protocol):
    """Sees what a bus does (``ravyn.events.testing.capture`` is one): every event emitted
    and every listener execution's end (``error`` None when it succeeded)."""

    def emitted(self, event: Event) -> None: ...

    def finished(self, event: Event, listener: Listener, error: BaseException | None) -> None: ...


_Targets = tuple[tuple[tuple[Listener, Counters], ...], Counters]
"""The listeners of one event name with their counters, and the event's counters."""


class _Batch:
    """The listener executions of one emit that went on in a task, for ``wait=True``."""

    __slots__ = ("pending", "waiter")

    def __init__(self) -> None:
        self.pending = 0
        self.waiter: asyncio.Future[None] | None = None

    async def wait(self) -> None:
        if self.pending:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter


class EventBus:
    """Emits events and runs the listeners of this process, each isolated from the others.

    Without a transport, ``emit`` fans out to local listeners. With one, ``emit`` only
    publishes, and listeners run when the transport delivers the event back
    (``deliver`` / ``deliver_local``), so a once-per-cluster listener never runs twice.

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
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be 1 or more.")
        self.registry = registry if registry is not None else active_registry()
        self.transport = transport
        self.max_in_flight = max_in_flight
        self.grace_period = grace_period
        self.metrics = Metrics()
        self._state = _NEW
        self._runner: EagerRunner | None = None
        self._in_flight = 0
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._room_waiters: list[asyncio.Future[None]] = []
        self._saturated = False
        self._limiters: dict[str, anyio.Semaphore] = {}
        self._targets_cache: dict[str, tuple[tuple[Listener, ...], _Targets]] = {}
        self._deferred: list[tuple[Event, _Targets, Context]] = []
        self.taps: list[BusTap] = []

    # -- lifecycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._state == _RUNNING

    async def start(self) -> None:
        """Accept events, letting listener work run on in tasks; start the transport."""
        if self._state == _RUNNING:
            return
        self._state = _RUNNING
        self._runner_for_loop()
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
        try:
            if self.transport is not None:
                await self.transport.stop(self.grace_period)
        finally:
            with anyio.move_on_after(self.grace_period):
                await self.idle()
            cancelled = self._in_flight
            if self._runner is not None:
                self._runner.cancel()
                with anyio.move_on_after(self.grace_period, shield=True) as scope:
                    await self._runner.wait_closed()
                if scope.cancelled_caught:
                    logger.error(
                        "listeners_ignored_cancellation",
                        still_running=self._in_flight,
                        hint="a listener catches CancelledError without re-raising it",
                    )
                self._runner = None
            self._state = _STOPPED
            logger.info("bus_stopped", cancelled=cancelled, grace_period=self.grace_period)

    async def __aenter__(self) -> EventBus:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def idle(self) -> None:
        """Wait until no listener execution is in flight."""
        while self._in_flight:
            waiter = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

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
        """
        self._check_open()
        event = self._make_event(name, payload, source, headers)
        await self._dispatch((event,), wait, defer)
        return event

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
        self._check_open()
        events = [self._make_event(name, payload, source, headers) for name in names]
        await self._dispatch(events, wait, defer)
        return events

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
        batch = _Batch()
        may_wait = current_bus_var.get() is not self
        stopped_at = self._start_all(events, 0, batch, broadcast_only, may_wait)
        while stopped_at is not None:  # backpressure: wait for room, then go on
            index, resume = stopped_at
            event = events[index]
            targets = self._targets(event.name)
            await self._start_when_room(event, targets, batch, broadcast_only, resume)
            stopped_at = self._start_all(events, index + 1, batch, broadcast_only, may_wait)
        if self._state != _RUNNING:
            await batch.wait()

    async def deliver(self, event: Event, listener: Listener) -> None:
        """Run ONE listener with its policy (timeout, retry, concurrency) in this task.

        Raises the final failure after logging and counting it: a durable transport acks
        on return and retries or dead-letters on raise.
        """
        tokens = self._enter_listener_context(event)
        listener_counters = self.metrics.for_listener(listener.name)
        event_counters = self.metrics.for_event(event.name)
        listener_counters.in_flight += 1
        event_counters.in_flight += 1
        try:
            await self._run_with_policy(event, listener)
        except Exception as exc:
            self._record_failure(event, listener, exc)
            raise
        else:
            listener_counters.delivered += 1
            event_counters.delivered += 1
            self._tell_taps(event, listener, None)
        finally:
            listener_counters.in_flight -= 1
            event_counters.in_flight -= 1
            current_event_var.reset(tokens[0])
            current_bus_var.reset(tokens[1])

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
        # could otherwise deadlock a saturated bus.
        may_wait = current_bus_var.get() is not self
        if defer and self._state == _RUNNING:
            await self._defer(events, may_wait)
            return
        batch = _Batch()
        for event in events:
            targets = self._targets(event.name)
            targets[1].emitted += 1
            resume = self._start_listeners(event, targets, batch, False, 0, may_wait)
            if resume is not None:
                await self._start_when_room(event, targets, batch, False, resume)
        if wait or self._state != _RUNNING:
            await batch.wait()

    def _make_event(
        self, name: str, payload: Any, source: str, headers: dict[str, str] | None
    ) -> Event:
        event_id = new_event_id()
        parent = current_event_var.get()
        if parent is not None:
            parent_headers = parent.headers
            trace_headers = {
                CORRELATION_ID: parent_headers.get(CORRELATION_ID, parent.id),
                CAUSATION_ID: parent.id,
            }
            traceparent = parent_headers.get(TRACEPARENT)
        else:
            request_trace = request_trace_var.get()
            if request_trace is None:
                trace_headers = {CORRELATION_ID: event_id}
                traceparent = None
            else:
                trace_headers = {CORRELATION_ID: request_trace[0]}
                traceparent = request_trace[1]
        if traceparent:
            trace_headers[TRACEPARENT] = traceparent
        if headers:
            trace_headers.update(headers)
        return Event(
            name=name,
            payload=payload,
            id=event_id,
            emitted_at=datetime.now(UTC),
            source=source,
            headers=trace_headers,
        )

    def _enter_listener_context(self, event: Event) -> tuple[Token[Any], Token[Any]]:
        """A listener sees the event it runs for (causation) and this bus (its
        ``trigger_event`` calls land here)."""
        return current_event_var.set(event), current_bus_var.set(self)

    def _runner_for_loop(self) -> EagerRunner:
        runner = self._runner
        if runner is None or runner.loop is not asyncio.get_running_loop():
            # A new event loop (the default bus across tests or asyncio.run calls): work
            # left on a closed loop can never finish, so stop counting it.
            self._in_flight = 0
            self._idle_waiters.clear()
            self._room_waiters.clear()
            self._limiters.clear()
            self._deferred.clear()
            runner = self._runner = EagerRunner(self._on_done)
        return runner

    def _targets(self, name: str) -> _Targets:
        """The listeners of ``name`` with their counters, and the event's counters; rebuilt
        when the registry changed."""
        listeners = self.registry.listeners_for(name)
        cached = self._targets_cache.get(name)
        if cached is None or cached[0] is not listeners:
            targets = tuple((lsn, self.metrics.for_listener(lsn.name)) for lsn in listeners)
            cached = self._targets_cache[name] = (
                listeners,
                (targets, self.metrics.for_event(name)),
            )
        return cached[1]

    async def _start_when_room(
        self,
        event: Event,
        targets: _Targets,
        batch: _Batch,
        broadcast_only: bool,
        resume: int | None,
    ) -> None:
        """Backpressure: start the listeners from index ``resume`` on, as room frees up."""
        while resume is not None:
            await self._wait_for_room(event, targets[1])
            resume = self._start_listeners(event, targets, batch, broadcast_only, resume, True)

    async def _defer(self, events: Sequence[Event], may_wait: bool) -> None:
        """Queue the events for ``_start_deferred`` on the next turn of the loop. Each holds
        an in-flight slot until then, so ``idle()``, ``stop()`` and backpressure count it."""
        if may_wait and self._in_flight >= self.max_in_flight:
            await self._wait_for_room(events[0], self._targets(events[0].name)[1])
        if not self._deferred:
            self._runner_for_loop().loop.call_soon(self._start_deferred)
        context = copy_context()  # listeners see the emitter's context, as when eager
        for event in events:
            targets = self._targets(event.name)
            targets[1].emitted += 1
            self._deferred.append((event, targets, context))
        self._in_flight += len(events)

    def _start_deferred(self) -> None:
        """Start the listeners of every deferred event, back to back, in one runner
        session. Fan-outs in a row keep the bus's code hot in the CPU caches: through a
        server, each costs less than one fan-out between each two requests' handling."""
        deferred, self._deferred = self._deferred, []
        batch = _Batch()  # nobody waits for deferred events
        runner = self._runner_for_loop()
        session = runner.enter()
        try:
            for event, targets, context in deferred:
                context.run(self._start_in_session, session, event, targets, batch, False, 0, False)
                self._free_slot()
        finally:
            runner.exit(session)

    def _start_all(
        self,
        events: Sequence[Event],
        first: int,
        batch: _Batch,
        broadcast_only: bool,
        may_wait: bool,
    ) -> tuple[int, int] | None:
        """Start the listeners of ``events[first:]`` in one runner session; at
        ``max_in_flight`` (with ``may_wait``), return (event index, listener index) to
        resume from once there is room again."""
        runner = self._runner_for_loop()
        session = runner.enter()
        try:
            for index in range(first, len(events)):
                event = events[index]
                targets = self._targets(event.name)
                if not targets[0]:
                    continue
                resume = self._start_in_session(
                    session, event, targets, batch, broadcast_only, 0, may_wait
                )
                if resume is not None:
                    return index, resume
            return None
        finally:
            runner.exit(session)

    def _start_listeners(
        self,
        event: Event,
        targets: _Targets,
        batch: _Batch,
        broadcast_only: bool,
        first: int,
        may_wait: bool,
    ) -> int | None:
        """Start the listeners from index ``first`` (those that suspend go on in a task);
        with ``may_wait``, return the index to resume from once there is room again (at
        ``max_in_flight``), else None when all were started."""
        if first >= len(targets[0]):
            return None
        runner = self._runner_for_loop()
        session = runner.enter()
        try:
            return self._start_in_session(
                session, event, targets, batch, broadcast_only, first, may_wait
            )
        finally:
            runner.exit(session)

    def _start_in_session(
        self,
        session: Session,
        event: Event,
        targets: _Targets,
        batch: _Batch,
        broadcast_only: bool,
        first: int,
        may_wait: bool,
    ) -> int | None:
        """``_start_listeners`` inside a runner session (``EagerRunner.enter``)."""
        targets, event_counters = targets
        event_context = copy_context()
        event_context.run(self._enter_listener_context, event)
        step = self._runner.step
        for index in range(first, len(targets)):
            listener, listener_counters = targets[index]
            if broadcast_only and not listener.broadcast:
                continue
            if may_wait and self._in_flight >= self.max_in_flight:
                return index
            try:
                coro = (
                    self._run_with_policy(event, listener)
                    if listener.has_policy
                    else listener.call(event)
                )
            except Exception as exc:  # a binding failure, raised before any await
                self._record_failure(event, listener, exc)
                continue
            outcome = step(session, coro, event_context.copy(), (event, listener, batch))
            if outcome is None:
                event_counters.delivered += 1
                listener_counters.delivered += 1
                if self.taps:
                    self._tell_taps(event, listener, None)
            elif outcome is SUSPENDED:
                self._in_flight += 1
                batch.pending += 1
                event_counters.in_flight += 1
                listener_counters.in_flight += 1
            else:
                self._record_failure(event, listener, outcome)
        return None

    def _on_done(self, token: tuple[Event, Listener, _Batch], exc: BaseException | None) -> None:
        """A listener execution that went on in a task has ended."""
        event, listener, batch = token
        event_counters = self.metrics.for_event(event.name)
        listener_counters = self.metrics.for_listener(listener.name)
        event_counters.in_flight -= 1
        listener_counters.in_flight -= 1
        if exc is None:
            event_counters.delivered += 1
            listener_counters.delivered += 1
            self._tell_taps(event, listener, None)
        elif isinstance(exc, asyncio.CancelledError) and self._state == _STOPPING:
            self._count(event, listener, "dropped")
            self._tell_taps(event, listener, exc)
            logger.warning(
                "listener_cancelled",
                **_about(event, listener),
                reason="bus stopped before the listener finished (grace period over)",
            )
        else:
            self._record_failure(event, listener, exc)
        batch.pending -= 1
        if not batch.pending and batch.waiter is not None and not batch.waiter.done():
            batch.waiter.set_result(None)
        self._free_slot()

    def _free_slot(self) -> None:
        """One listener execution (or deferred event) less in flight: wake who waits."""
        self._in_flight -= 1
        if self._room_waiters and self._in_flight < self.max_in_flight:
            self._wake_one_room_waiter()
        if not self._in_flight:
            waiters, self._idle_waiters = self._idle_waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _count(self, event: Event, listener: Listener, counter: str) -> None:
        """Add one to ``counter`` of the event and of the listener (rare outcomes only)."""
        for counters in (
            self.metrics.for_event(event.name),
            self.metrics.for_listener(listener.name),
        ):
            setattr(counters, counter, getattr(counters, counter) + 1)

    def _tell_taps(self, event: Event, listener: Listener, error: BaseException | None) -> None:
        for tap in self.taps:
            tap.finished(event, listener, error)

    def _record_failure(self, event: Event, listener: Listener, exc: BaseException) -> None:
        self._count(event, listener, "failed")
        self._tell_taps(event, listener, exc)
        if isinstance(exc, ListenerBindingError):
            reason = "binding"
        elif isinstance(exc, TimeoutError):
            reason = "timeout"
        else:
            reason = "exception"
        logger.error(
            "listener_failed",
            **_about(event, listener),
            reason=reason,
            error=repr(exc),
            exc_info=exc,
        )

    async def _wait_for_room(self, event: Event, event_counters: Counters) -> None:
        """Backpressure: at ``max_in_flight``, wait for a listener to finish."""
        if not self._saturated:
            self._saturated = True
            logger.warning(
                "bus_saturated",
                max_in_flight=self.max_in_flight,
                event_name=event.name,
                action="emit waits for a listener to finish",
            )
        event_counters.waiting += 1
        try:
            while self._in_flight >= self.max_in_flight:
                waiter = asyncio.get_running_loop().create_future()
                self._room_waiters.append(waiter)
                await waiter
        finally:
            event_counters.waiting -= 1
        if self._saturated and not self._room_waiters:
            self._saturated = False
            logger.info("bus_unsaturated", in_flight=self._in_flight)

    def _wake_one_room_waiter(self) -> None:
        while self._room_waiters:
            waiter = self._room_waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _run_with_policy(self, event: Event, listener: Listener) -> None:
        """One listener execution with its timeout, retry and concurrency limit."""
        attempts = listener.retry.attempts if listener.retry is not None else 1
        for attempt in range(1, attempts + 1):
            try:
                if listener.max_concurrency is None:
                    await self._attempt(event, listener)
                else:
                    async with self._limiter(listener):
                        await self._attempt(event, listener)
                return
            except ListenerBindingError:
                raise  # the same payload will never bind: retrying cannot help
            except Exception as exc:
                if attempt == attempts:
                    raise
                self._count(event, listener, "retried")
                delay = listener.retry.delay(attempt)
                logger.warning(
                    "listener_retry",
                    **_about(event, listener),
                    attempt=attempt,
                    delay=delay,
                    error=repr(exc),
                )
                await anyio.sleep(delay)

    async def _attempt(self, event: Event, listener: Listener) -> None:
        if listener.timeout is None:
            await listener.call(event)
            return
        try:
            with anyio.fail_after(listener.timeout):
                await listener.call(event)
        except TimeoutError:
            self._count(event, listener, "timed_out")
            raise

    def _limiter(self, listener: Listener) -> anyio.Semaphore:
        limiter = self._limiters.get(listener.name)
        if limiter is None:
            limiter = self._limiters[listener.name] = anyio.Semaphore(listener.max_concurrency)
        return limiter


def _about(event: Event, listener: Listener) -> dict[str, str]:
    """The log fields naming one listener execution."""
    return {"event_name": event.name, "event_id": event.id, "listener": listener.name}


_default_bus: EventBus | None = None


def default_bus() -> EventBus:
    """The process-wide bus (on the default registry) used outside an app."""
    global _default_bus
    if _default_bus is None:
        _default_bus = EventBus(default_registry())
    return _default_bus
