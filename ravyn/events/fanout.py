"""Fan-out: run the listeners of events in this process, each isolated from the others.

Each listener coroutine is started at once (``eager.py``): one that finishes in its first
step never gets a task; one that suspends goes on in a pooled task and counts as in flight
(``capacity.py``). A *wave* is the set of executions one call started (an emit, a received
batch), so ``wait=True`` waits for its own listeners only. Every execution is made by
``PolicyRunner.executor`` (``policy.py``), whatever path leads here, and ends in one of
the outcome methods below, which update the counters, tell the taps and log failures.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from collections.abc import Callable, Coroutine, Sequence
from contextvars import Context, Token, copy_context
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import msgspec
import structlog

from ravyn.events.binding import binding_error
from ravyn.events.capacity import Capacity
from ravyn.events.context import current_bus_var, current_event_var
from ravyn.events.eager import EagerRunner, Session
from ravyn.events.envelope import Event
from ravyn.events.errors import ListenerBindingError
from ravyn.events.listener import Listener
from ravyn.events.metrics import Counters, Metrics
from ravyn.events.policy import PolicyRunner
from ravyn.events.registry import Registry

if TYPE_CHECKING:
    from ravyn.events.bus import EventBus

logger = structlog.get_logger("ravyn.events")


class BusTap(Protocol):
    """Sees what a bus does (``ravyn.events.testing.capture`` is one): every event emitted
    and every listener execution's end (``error`` None when it succeeded)."""

    def emitted(self, event: Event) -> None: ...

    def finished(self, event: Event, listener: Listener, error: BaseException | None) -> None: ...


class Target:
    """One listener of one event name, with the counters its executions update and what
    starts an execution under its policy (``PolicyRunner.executor``).

    ``arguments`` is the listener's shared argument maker (``EventBinding``) when the bare
    call runs it (an ``async def`` listener without policy): the fan-out then calls
    ``listener.func`` with arguments it made once per event for every such listener."""

    __slots__ = ("listener", "func", "counters", "event_counters", "execute", "arguments")

    def __init__(
        self,
        listener: Listener,
        counters: Counters,
        event_counters: Counters,
        execute: Callable[[Event], Coroutine[Any, Any, Any]],
    ) -> None:
        self.listener = listener
        self.func = listener.func
        self.counters = counters
        self.event_counters = event_counters
        self.execute = execute
        bare = listener.is_async and execute is listener.call
        self.arguments = listener.binding.shared_arguments if bare else None

    def delivered(self) -> None:
        self.counters.delivered += 1
        self.event_counters.delivered += 1

    def in_flight(self, change: int) -> None:
        self.counters.in_flight += change
        self.event_counters.in_flight += change

    def count(self, counter: str) -> None:
        """Add one to a counter of a rare outcome (``failed``, ``dropped``...)."""
        for counters in (self.counters, self.event_counters):
            setattr(counters, counter, getattr(counters, counter) + 1)


class Targets:
    """The listeners of one event name as targets, and the event's counters, as the
    registry had them at ``generation`` (``Registry.generation``)."""

    __slots__ = ("generation", "targets", "counters")

    def __init__(
        self, registry: Registry, metrics: Metrics, name: str, policy: PolicyRunner
    ) -> None:
        self.generation = Registry.generation
        self.counters = metrics.for_event(name)
        self.targets = tuple(
            Target(
                listener,
                metrics.for_listener(listener.name),
                self.counters,
                policy.executor(listener),
            )
            for listener in registry.listeners_for(name)
        )


class Wave:
    """The executions started by one fan-out call, and its options: ``broadcast_only``
    (a transport's broadcast feed), ``may_wait`` for room at ``max_in_flight`` (never for a
    listener's own emits: it holds a slot itself), ``emitted`` (count the events as emitted
    here: no transport counted them)."""

    __slots__ = ("broadcast_only", "may_wait", "emitted", "pending", "waiter")

    def __init__(self, broadcast_only: bool, may_wait: bool, emitted: bool) -> None:
        self.broadcast_only = broadcast_only
        self.may_wait = may_wait
        self.emitted = emitted
        self.pending = 0
        self.waiter: asyncio.Future[None] | None = None

    async def wait(self) -> None:
        """Until every execution of the wave that went on in a task has ended."""
        if self.pending:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def ended(self, token: object, error: BaseException | None) -> None:
        """The execution of ``token`` (see ``FanOut._on_done``), which went on in a task,
        has ended (``error`` None when it succeeded)."""
        self.pending -= 1
        if not self.pending and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class Batch(Wave):
    """The wave of ``FanOut.deliver_many``: one listener for each of ``size`` events that
    a transport fetched. It keeps the task of each execution still running (so that a
    cancelled batch cancels them) and the final failure of each, by position."""

    __slots__ = ("running", "errors")

    def __init__(self, size: int) -> None:
        super().__init__(broadcast_only=False, may_wait=False, emitted=False)
        self.running: dict[int, tuple[int, asyncio.Task[Any]]] = {}  # id(token) -> position
        self.errors: list[BaseException | None] = [None] * size

    def ended(self, token: object, error: BaseException | None) -> None:
        position, _ = self.running.pop(id(token))
        self.errors[position] = error
        super().ended(token, error)


class FanOut:
    """Runs the listeners of one bus (``owner``, made current for its listeners)."""

    def __init__(
        self,
        owner: EventBus,
        registry: Registry,
        metrics: Metrics,
        capacity: Capacity,
        taps: list[BusTap],
    ) -> None:
        self.owner = owner
        self.registry = registry
        self.metrics = metrics
        self.capacity = capacity
        self.taps = taps
        self.policy = PolicyRunner(self.count, metrics.refused)
        self.stopping = False
        self._runner: EagerRunner | None = None
        self._targets: dict[str, Targets] = {}
        self._deferred: list[tuple[Event, Targets, Context]] = []
        self._deferred_wave = Wave(False, False, False)  # nobody waits for deferred events
        self._start_deferred_soon: Callable[[], object] | None = None  # set with the runner

    # -- running -----------------------------------------------------------------------

    def start(self, events: Sequence[Event], wave: Wave) -> tuple[int, int] | None:
        """Start the listeners of every event. At ``max_in_flight`` (when the wave may
        wait) stop, and return where ``go_on`` must resume once there is room."""
        return self._start_all(events, 0, 0, wave)

    async def go_on(self, events: Sequence[Event], wave: Wave, stopped_at: tuple[int, int]) -> None:
        """Backpressure: wait for room, start from where ``start`` stopped, again."""
        resume: tuple[int, int] | None = stopped_at
        while resume is not None:
            index, first = resume
            name = events[index].name
            await self.capacity.wait_for_room(name, self.targets(name).counters)
            resume = self._start_all(events, index, first, wave)

    def defer(self, events: Sequence[Event]) -> None:
        """Queue the events for the next turn of the loop, where every event deferred in
        the turn starts back to back. Each holds an in-flight slot until then, so
        ``idle()``, ``stop()`` and backpressure count it."""
        deferred = self._deferred
        if not deferred:
            self.runner()
            assert self._start_deferred_soon is not None
            self._start_deferred_soon()
        context = self._listeners_context()
        cached = self._targets
        for event in events:
            targets = cached.get(event.name)
            if targets is None or targets.generation != Registry.generation:
                targets = self.targets(event.name)
            targets.counters.emitted += 1
            deferred.append((event, targets, context))
        self.capacity.in_flight += len(events)

    async def deliver(self, event: Event, listener: Listener) -> None:
        """Run ONE listener with its policy in this task; raise its final failure."""
        tokens = self._enter_listener_context(event)
        target = self._target(event, listener)
        target.in_flight(1)
        try:
            await target.execute(event)
        except Exception as exc:
            self.failed(event, target, exc)
            raise
        else:
            target.delivered()
            self._tell_taps(event, listener, None)
        finally:
            target.in_flight(-1)
            current_event_var.reset(tokens[0])
            current_bus_var.reset(tokens[1])

    async def deliver_many(
        self, events: Sequence[Event], listener: Listener
    ) -> list[BaseException | None]:
        """Run ONE listener for each event, with its policy, concurrently: each starts at
        once and only those that suspend get a task (``eager.py``). Returns each final
        failure (None for a success), in the order of ``events``. Cancelled while waiting,
        it cancels the executions still running."""
        runner = self.runner()
        batch = Batch(len(events))
        capacity = self.capacity
        by_name: dict[str, Target] = {}
        session = runner.enter()
        try:
            for position, event in enumerate(events):
                target = by_name.get(event.name)
                if target is None:
                    target = by_name[event.name] = self._target(event, listener)
                context = copy_context()
                context.run(self._enter_listener_context, event)
                try:
                    coro = target.execute(event)
                except Exception as exc:  # a binding failure, raised before any await
                    self.failed(event, target, exc)
                    batch.errors[position] = exc
                    continue
                token = (event, target, batch)
                outcome = runner.step(session, coro, context, token)
                if outcome is None:
                    target.delivered()
                    if self.taps:
                        self._tell_taps(event, listener, None)
                elif isinstance(outcome, BaseException):
                    self.failed(event, target, outcome)
                    batch.errors[position] = outcome
                else:  # it suspended: it goes on in a task
                    batch.running[id(token)] = (position, outcome)
                    capacity.in_flight += 1
                    batch.pending += 1
                    target.in_flight(1)
        finally:
            runner.exit(session)
        try:
            await batch.wait()
        except asyncio.CancelledError:
            for _, task in batch.running.values():
                task.cancel()
            raise
        return batch.errors

    def runner(self) -> EagerRunner:
        """The eager runner of the running loop (a new loop starts with nothing counted)."""
        runner = self._runner
        if runner is None or runner.loop is not asyncio.get_running_loop():
            # A new event loop (the default bus across tests or asyncio.run calls): work
            # left on a closed loop can never finish, so stop counting it.
            self.capacity.reset()
            self.policy.reset()
            self._deferred.clear()
            runner = self._runner = EagerRunner(self._on_done)
            self._start_deferred_soon = next_turn(runner.loop, self._start_deferred)
        return runner

    async def close(self, grace_period: float) -> None:
        """Cancel what still runs (each ends as ``dropped``) and wait for it to end."""
        if self._runner is None:
            return
        self._runner.cancel()
        with anyio.move_on_after(grace_period, shield=True) as scope:
            await self._runner.wait_closed()
        if scope.cancelled_caught:
            logger.error(
                "listeners_ignored_cancellation",
                still_running=self.capacity.in_flight,
                hint="a listener catches CancelledError without re-raising it",
            )
        self._runner = None

    def targets(self, name: str) -> Targets:
        """The targets of ``name``, rebuilt when the registry changed."""
        targets = self._targets.get(name)
        if targets is None or targets.generation != Registry.generation:
            targets = self._targets[name] = Targets(self.registry, self.metrics, name, self.policy)
        return targets

    # -- starting ----------------------------------------------------------------------

    def _start_all(
        self, events: Sequence[Event], index: int, first: int, wave: Wave
    ) -> tuple[int, int] | None:
        """Start the listeners of ``events[index:]`` (of the first from listener ``first``)
        in one runner session; at ``max_in_flight`` return where to resume."""
        runner = self.runner()
        context = self._listeners_context()
        session = runner.enter()
        try:
            for position in range(index, len(events)):
                event = events[position]
                targets = self.targets(event.name)
                if wave.emitted and not first:
                    targets.counters.emitted += 1
                if targets.targets:
                    resume = self._start(session, event, targets, first, wave, context)
                    if resume is not None:
                        return position, resume
                first = 0
            return None
        finally:
            runner.exit(session)

    def _start_deferred(self) -> None:
        """Start every deferred event's listeners, back to back, in one runner session.
        Fan-outs in a row keep the bus's code hot in the CPU caches: through a server,
        each costs less than one fan-out between each two requests' handling."""
        deferred, self._deferred = self._deferred, []
        runner = self._runner
        assert runner is not None  # made by the `defer` that scheduled this call
        session = runner.enter()
        wave = self._deferred_wave
        try:
            for event, targets, context in deferred:
                self._start(session, event, targets, 0, wave, context)
        finally:
            runner.exit(session)
            self.capacity.free(len(deferred))

    def _listeners_context(self) -> Context:
        """A copy of the emitter's context in which this bus is the current one: what
        the listeners of the events emitted here see (each in a copy of its own)."""
        context = copy_context()
        if current_bus_var.get() is not self.owner:
            context.run(current_bus_var.set, self.owner)
        return context

    def _start(
        self,
        session: Session,
        event: Event,
        targets: Targets,
        first: int,
        wave: Wave,
        context: Context,
    ) -> int | None:
        """Start the listeners from index ``first``, each in its own copy of ``context``
        with ``event`` as the current event (those that suspend go on in a task); return
        the index to resume from when the wave must wait for room, else None."""
        runner = self._runner
        assert runner is not None  # the caller entered this session on it
        event_context = context.copy()
        event_context.run(current_event_var.set, event)
        step = runner.step
        taps = self.taps
        checked = wave.broadcast_only or wave.may_wait
        items = targets.targets
        kwargs: dict[str, Any] = {}  # the shared arguments made last...
        made_by: Any = None  # ...and their maker: listeners in a row share them
        finished = 0  # added to the event's `delivered` once, after the loop
        try:
            for index in range(first, len(items)):
                target = items[index]
                if checked:
                    if wave.broadcast_only and not target.listener.broadcast:
                        continue
                    if wave.may_wait and self.capacity.full:
                        return index
                try:
                    if target.arguments is None:
                        coro = target.execute(event)
                    else:
                        if target.arguments is not made_by:
                            kwargs = self._arguments(event, target)
                            made_by = target.arguments
                        coro = target.func(**kwargs)
                except Exception as exc:  # a binding failure, raised before any await
                    self.failed(event, target, exc)
                    continue
                outcome = step(session, coro, event_context.copy(), (event, target, wave))
                if outcome is None:
                    target.counters.delivered += 1
                    finished += 1
                    if taps:
                        self._tell_taps(event, target.listener, None)
                elif isinstance(outcome, BaseException):
                    self.failed(event, target, outcome)
                    # Its traceback reaches this frame: a local keeping it makes a cycle
                    # that only the cyclic collector would free.
                    outcome = None
                else:  # it suspended: it goes on in a task
                    self.capacity.in_flight += 1
                    wave.pending += 1
                    target.in_flight(1)
            return None
        finally:
            targets.counters.delivered += finished

    @staticmethod
    def _arguments(event: Event, target: Target) -> dict[str, Any]:
        """The shared arguments of ``target`` for ``event``, or the binding error that
        names the listener (as its own ``invoke`` raises it)."""
        assert target.arguments is not None
        try:
            return target.arguments(event)
        except msgspec.ValidationError as exc:
            raise binding_error(target.listener.name, event, exc) from exc

    def _enter_listener_context(self, event: Event) -> tuple[Token[Any], Token[Any]]:
        """A listener sees the event it runs for (causation) and this bus (its
        ``trigger_event`` calls land here)."""
        return current_event_var.set(event), current_bus_var.set(self.owner)

    # -- outcomes ----------------------------------------------------------------------

    def _on_done(self, token: tuple[Event, Target, Wave], exc: BaseException | None) -> None:
        """An execution that went on in a task has ended."""
        event, target, wave = token
        target.in_flight(-1)
        if exc is None:
            target.delivered()
            self._tell_taps(event, target.listener, None)
        elif isinstance(exc, asyncio.CancelledError) and self.stopping:
            target.count("dropped")
            self._tell_taps(event, target.listener, exc)
            logger.warning(
                "listener_cancelled",
                **_about(event, target.listener),
                reason="bus stopped before the listener finished (grace period over)",
            )
        else:
            self.failed(event, target, exc)
        wave.ended(token, exc)
        self.capacity.free()

    def failed(self, event: Event, target: Target, exc: BaseException) -> None:
        """Count, tell and log a failed execution (exception, timeout or binding)."""
        target.count("failed")
        self._tell_taps(event, target.listener, exc)
        if isinstance(exc, ListenerBindingError):
            reason = "binding"
        elif isinstance(exc, TimeoutError):
            reason = "timeout"
        else:
            reason = "exception"
        # A binding failure's message names the field: its traceback would only show ravyn.
        details = (
            {"error": str(exc)} if reason == "binding" else {"error": repr(exc), "exc_info": exc}
        )
        logger.error("listener_failed", **_about(event, target.listener), reason=reason, **details)

    def count(self, event: Event, listener: Listener, counter: str) -> None:
        """Add one to ``counter`` of the event and the listener (the policy's outcomes)."""
        self._target(event, listener).count(counter)

    def _target(self, event: Event, listener: Listener) -> Target:
        """A target for an execution outside a fan-out (a transport's ``deliver``)."""
        return Target(
            listener,
            self.metrics.for_listener(listener.name),
            self.metrics.for_event(event.name),
            self.policy.executor(listener),
        )

    def _tell_taps(self, event: Event, listener: Listener, error: BaseException | None) -> None:
        for tap in self.taps:
            tap.finished(event, listener, error)


def next_turn(
    loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
) -> Callable[[], object]:
    """What schedules ``callback`` for the loop's next turn, as ``loop.call_soon`` does.

    On asyncio's own loop, ``call_soon`` runs some 120 bytecodes of Python per call (checks,
    a new ``Handle``), a fifth of a deferred fan-out's cost. What it does in the end is
    append a handle to the loop's ready queue: so one handle made here is appended each
    time, in one C call. Other loops (uvloop: ``call_soon`` is C already) and debug mode
    (its thread check) go through ``call_soon``. The callback runs in an empty context.
    """
    ready = getattr(loop, "_ready", None)
    if isinstance(ready, collections.deque) and not loop.get_debug():
        return functools.partial(ready.append, asyncio.Handle(callback, (), loop, Context()))
    return functools.partial(loop.call_soon, callback, context=Context())


def _about(event: Event, listener: Listener) -> dict[str, str]:
    """The log fields naming one listener execution."""
    return {"event_name": event.name, "event_id": event.id, "listener": listener.name}
