"""Start listener coroutines at once; give one a task only if it suspends.

A task per listener costs a few microseconds, most of a trivial listener's cost. So the bus
runs each listener coroutine's first step right away, in the emitter's turn of the event
loop. Most trivial listeners finish there. One that suspends is handed, already started, to
a *carrier*: a task kept in a pool, which keeps driving it concurrently.

Code that captures the current task before its first ``await`` (``asyncio.timeout``,
``asyncio.TaskGroup``, anyio cancel scopes) must see the task that will run the rest of the
coroutine, not the emitter's. So the first step runs with the carrier it may be handed to
registered as the loop's current task (asyncio's own eager tasks do the same). When no idle
carrier is ready, a new one is made: it is the listener's own task from then on.

In a burst (thousands of emits, then ``idle()``) every suspended listener is alive at once,
and the cyclic garbage collector walks all of them again and again (``bench_burst.py``). So a
carried listener costs as few tracked objects as a task of its own can: the carrier *is* the
task (no object beside it), its coroutine is the one frame that drives the listener, and an
idle carrier gets a wake-up future only when it has to wait for one.
"""

from __future__ import annotations

import asyncio
import types
from asyncio.tasks import _enter_task, _leave_task  # as asyncio's eager tasks do
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context
from typing import Any

_current_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[Any]]
_current_tasks = asyncio.tasks._current_tasks  # type: ignore[attr-defined]

OnDone = Callable[[Any, BaseException | None], None]
_RETURNED: Any = object()  # what a first step gives for a coroutine that returned


class _Carrier(asyncio.Task[None]):
    """A task that drives started coroutines handed to it, one after the other.

    ``coro`` is the one it drives next (None while idle), with the ``context`` its steps
    run in, the ``value`` its first step yielded, an ``error`` to throw into it first and the
    ``token`` it is reported with. ``wake`` is the future it waits on while idle, so an idle
    carrier whose ``wake`` is None has not run yet. Made directly, not through the loop's
    task factory: an eager factory would start it in the emitter's turn.
    """

    __slots__ = ("coro", "context", "value", "error", "token", "wake")
    coro: Coroutine[Any, Any, Any] | None
    context: Context | None
    value: Any
    error: BaseException | None
    token: Any
    wake: asyncio.Future[None] | None

    def __init__(self, runner: EagerRunner) -> None:
        self.coro = self.wake = None  # the rest is set by `hand`, before anything reads it
        super().__init__(runner._carry(self), loop=runner.loop, context=runner.carrier_context)

    def hand(
        self,
        coro: Coroutine[Any, Any, Any],
        context: Context,
        value: Any,
        error: BaseException | None,
        token: Any,
    ) -> None:
        """Give this carrier a started coroutine, and wake it if it waits for one."""
        self.coro, self.context, self.value = coro, context, value
        self.error, self.token = error, token
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)


class Session:
    """The carrier registered as current task while ``EagerRunner.step`` calls run, and the
    task it replaced."""

    __slots__ = ("outer", "carrier")

    def __init__(self, outer: asyncio.Task[Any] | None, carrier: _Carrier) -> None:
        self.outer = outer
        self.carrier = carrier


class EagerRunner:
    """Runs coroutines eagerly on one event loop; ``on_done(token, exc)`` reports those
    that finish in a carrier.

    A carrier that finishes its coroutine goes back to the pool, so a burst that needed
    10,000 carriers finds them there the next time instead of making new tasks. The pool
    keeps ``keep_idle`` carriers for good; beyond that, carriers that no one took for
    ``trim_after`` seconds end. It never holds more than the most coroutines carried at
    once, which the bus bounds with ``max_in_flight``.
    """

    def __init__(self, on_done: OnDone, keep_idle: int = 256, trim_after: float = 1.0) -> None:
        self.loop = asyncio.get_running_loop()
        # Every carrier's own context: its code sets no variable (a listener's steps run
        # in the listener's context), so one shared context spares one object per carrier.
        self.carrier_context = Context()
        self._on_done = on_done
        self._keep_idle = keep_idle
        self._trim_after = trim_after
        self._idle: list[_Carrier] = []  # taken from the end: the first ones wait longest
        self._fewest_idle = 0  # the fewest carriers idle at once since the last trim
        self._trim: asyncio.TimerHandle | None = None
        self._carriers: set[_Carrier] = set()

    def enter(self) -> Session:
        """Make an idle carrier the loop's current task, until ``exit``: listener first
        steps run under it. No ``await`` may happen before ``exit``."""
        loop = self.loop
        session = Session(_current_tasks.get(loop), self._take_carrier())
        if session.outer is not None:
            _leave_task(loop, session.outer)
        _enter_task(loop, session.carrier)
        return session

    def exit(self, session: Session) -> None:
        """Give the current task back to the caller of ``enter``."""
        carrier = session.carrier
        _leave_task(self.loop, carrier)
        if session.outer is not None:
            _enter_task(self.loop, session.outer)
        if carrier.cancelling():
            self._dismiss(carrier)
        else:
            self._idle.append(carrier)

    def step(
        self, session: Session, coro: Coroutine[Any, Any, Any], context: Context, token: Any
    ) -> Any:
        """Run ``coro`` until it first suspends, inside ``enter``/``exit``.

        Returns None when it returned, the exception when it raised, or the task it
        continues in when it suspended (``on_done(token, exc)`` is called when it ends; the
        task may go on to carry other coroutines after that).
        """
        carrier = session.carrier
        try:
            # next() on the awaitable's iterator: a coroutine that returns raises no
            # StopIteration (none for None, and none through a Python frame)
            value = context.run(next, coro.__await__(), _RETURNED)
        except BaseException as exc:
            if carrier.cancelling():
                self._retire(session)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return exc  # even CancelledError: raised by the listener, not sent to the emitter
        if value is _RETURNED:
            if carrier.cancelling():
                self._retire(session)
            return None
        if carrier.cancelling() and carrier.wake is None:
            # The listener cancelled "its" task before that task ever ran: it dies at its
            # first step, so a fresh carrier delivers the cancellation instead.
            self._retire(session)
            carrier = self._new_carrier()
            carrier.hand(coro, context, value, asyncio.CancelledError(), token)
            return carrier
        # It suspended: its carrier goes on with it, the session under another.
        loop = self.loop
        _leave_task(loop, carrier)
        session.carrier = self._take_carrier()
        _enter_task(loop, session.carrier)
        carrier.hand(coro, context, value, None, token)
        return carrier

    def _take_carrier(self) -> _Carrier:
        idle = self._idle
        while idle:
            carrier = idle.pop()
            if len(idle) < self._fewest_idle:
                self._fewest_idle = len(idle)
            if not carrier.cancelling():
                return carrier
            self._dismiss(carrier)  # cancelled while idle, by code that kept its task
        return self._new_carrier()

    def _new_carrier(self) -> _Carrier:
        carrier = _Carrier(self)
        self._carriers.add(carrier)
        return carrier

    def _retire(self, session: Session) -> None:
        """The listener cancelled the session's carrier: continue under another."""
        old, new = session.carrier, self._take_carrier()
        _leave_task(self.loop, old)
        _enter_task(self.loop, new)
        session.carrier = new
        self._dismiss(old)

    def _dismiss(self, carrier: _Carrier) -> None:
        """End a carrier out of the pool: one the pool does not need, or one cancelled by
        its listener (it would pass that cancellation on to the next listener)."""
        if carrier.wake is None:  # it has not run: cancelled, it ends at its first step
            carrier.cancel()
            self._carriers.discard(carrier)  # its coroutine never runs to forget it
        elif not carrier.wake.done():
            carrier.wake.set_result(None)  # woken with nothing to carry, it ends

    def _trim_idle(self) -> None:
        """End the idle carriers beyond ``keep_idle`` that no one took since the last trim
        (the first of the pool), and look again later while more than that are idle."""
        self._trim = None
        idle = self._idle
        unused = min(self._fewest_idle, len(idle) - self._keep_idle)
        if unused > 0:
            dismissed = idle[:unused]
            del idle[:unused]
            for carrier in dismissed:
                self._dismiss(carrier)
        self._fewest_idle = len(idle)
        if len(idle) > self._keep_idle:
            self._trim = self.loop.call_later(self._trim_after, self._trim_idle)

    def cancel(self) -> None:
        """Cancel every carrier: running listeners get CancelledError (and ``on_done``)."""
        if self._trim is not None:
            self._trim.cancel()
            self._trim = None
        self._idle.clear()
        for carrier in self._carriers:
            carrier.cancel()

    async def wait_closed(self) -> None:
        """Wait until every carrier has ended (after ``cancel``)."""
        while self._carriers:
            carriers = list(self._carriers)
            await asyncio.wait(carriers)
            self._carriers.difference_update(carriers)  # those cancelled before they started

    async def _carry(self, carrier: _Carrier) -> None:
        """A carrier's life: drive the coroutine it was handed to its end, then wait in the
        pool for the next one, until dismissed or cancelled."""
        idle = self._idle
        try:
            while True:
                if carrier.coro is None:
                    carrier.wake = self.loop.create_future()
                    try:
                        await carrier.wake
                    except asyncio.CancelledError as exc:
                        if carrier.coro is None:
                            # The pool is closing (or the idle task was cancelled). Not
                            # re-raised: its traceback would hold this frame in a cycle.
                            return
                        carrier.error = exc  # the listener cancelled its own task at once
                    carrier.wake = None
                    if carrier.coro is None:
                        return  # dismissed
                await self._drive(carrier)
                if carrier.cancelling():
                    return  # a cancellation is pending: it would reach the next coroutine
                idle.append(carrier)
                if self._trim is None and len(idle) > self._keep_idle:
                    self._trim = self.loop.call_later(self._trim_after, self._trim_idle)
        finally:
            self._carriers.discard(carrier)

    @types.coroutine
    def _drive(self, carrier: _Carrier) -> Generator[Any, Any, None]:
        """Drive the coroutine handed to ``carrier`` to its end, every step in its context,
        passing on each value the task sends or throws, and report it. A cancellation of
        the carrier ends the coroutine and is reported, not re-raised: the carrier then ends
        as its task is ``cancelling()``. What only a process should catch is re-raised.

        No local is left holding the coroutine's exception, nor anything that may lead to
        it: its traceback holds this frame, and such a cycle only the cyclic GC frees."""
        coro, context, value, error, token = (
            carrier.coro,
            carrier.context,
            carrier.value,
            carrier.error,
            carrier.token,
        )
        carrier.coro = carrier.context = carrier.value = carrier.error = carrier.token = None
        assert coro is not None and context is not None  # handed before the carrier is woken
        try:
            if error is not None:
                value = context.run(coro.throw, error)
            elif value is None:  # a bare yield (sleep(0)): the hand-off already let others run
                value = context.run(coro.send, None)
            while True:
                try:
                    sent = yield value
                except GeneratorExit:
                    coro.close()
                    raise
                except BaseException as exc:
                    value = context.run(coro.throw, exc)
                else:
                    value = context.run(coro.send, sent)
        except StopIteration:
            context.run(self._on_done, token, None)
        except BaseException as exc:
            value = sent = error = None
            context.run(self._on_done, token, exc)
            if not isinstance(exc, Exception | asyncio.CancelledError):
                raise  # KeyboardInterrupt, SystemExit, GeneratorExit
