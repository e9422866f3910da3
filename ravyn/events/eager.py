"""Start listener coroutines at once; give one a task only if it suspends.

A task per listener costs a few microseconds, most of a trivial listener's cost. So the bus
runs each listener coroutine's first step right away, in the emitter's turn of the event
loop. Most trivial listeners finish there. One that suspends is handed, already started, to
a *carrier*: an idle task kept in a small pool, which keeps driving it concurrently.

Code that captures the current task before its first ``await`` (``asyncio.timeout``,
``asyncio.TaskGroup``, anyio cancel scopes) must see the task that will run the rest of the
coroutine, not the emitter's. So the first step runs with the carrier it may be handed to
registered as the loop's current task (asyncio's own eager tasks do the same). When no idle
carrier is ready, the listener simply runs in a new task and a carrier is added to the pool.
"""

from __future__ import annotations

import asyncio
from asyncio.tasks import _enter_task, _leave_task  # as asyncio's eager tasks do
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context
from typing import Any

_current_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[Any]]
_current_tasks = asyncio.tasks._current_tasks  # type: ignore[attr-defined]

OnDone = Callable[[Any, BaseException | None], None]


class _Carrier:
    __slots__ = ("task", "wake", "job", "started")
    task: asyncio.Task[None]  # set right after, by the runner that makes the carrier

    def __init__(self, wake: asyncio.Future[None]) -> None:
        self.wake = wake
        self.job: tuple[Coroutine[Any, Any, Any], Context, Any, Any] | None = None
        self.started = False


class Session:
    """The carrier registered as current task while ``EagerRunner.step`` calls run, and the
    task it replaced."""

    __slots__ = ("outer", "carrier")

    def __init__(self, outer: asyncio.Task[Any] | None, carrier: _Carrier) -> None:
        self.outer = outer
        self.carrier = carrier


class _Resume:
    """Awaitable that continues a started coroutine: forwards each value the carrier's task
    sends or throws, running every step in the listener's own context."""

    __slots__ = ("coro", "context", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], context: Context, first: Any) -> None:
        self.coro = coro
        self.context = context
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, run, value = self.coro, self.context.run, self.first
        if value is None:  # a bare yield (sleep(0)): the hand-off already let others run
            try:
                value = run(coro.send, None)
            except StopIteration as stop:
                return stop.value
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:
                try:
                    value = run(coro.throw, exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = run(coro.send, sent)
                except StopIteration as stop:
                    return stop.value


class EagerRunner:
    """Runs coroutines eagerly on one event loop; ``on_done(token, exc)`` reports those
    that finish in a carrier (or a fallback task)."""

    def __init__(self, on_done: OnDone, max_idle: int = 256) -> None:
        self.loop = asyncio.get_running_loop()
        self._on_done = on_done
        self._max_idle = max_idle
        self._idle: list[_Carrier] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def enter(self) -> Session:
        """Make an idle carrier the loop's current task, until ``exit``: listener first
        steps run under it. No ``await`` may happen before ``exit``."""
        loop = self.loop
        session = Session(_current_tasks.get(loop), self._take_carrier())
        if session.outer is not None:
            _leave_task(loop, session.outer)
        _enter_task(loop, session.carrier.task)
        return session

    def exit(self, session: Session) -> None:
        """Give the current task back to the caller of ``enter``."""
        carrier = session.carrier
        _leave_task(self.loop, carrier.task)
        if session.outer is not None:
            _enter_task(self.loop, session.outer)
        self._release(carrier)

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
            first = context.run(coro.send, None)
        except StopIteration:
            if carrier.task.cancelling():
                self._switch(session, retire=True)
            return None
        except BaseException as exc:
            if carrier.task.cancelling():
                self._switch(session, retire=True)
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return exc  # even CancelledError: raised by the listener, not sent to the emitter
        if not carrier.started and carrier.task.cancelling():
            # The listener cancelled "its" task before the carrier ever ran: that carrier
            # dies at its first step, so a fresh task delivers the cancellation instead.
            task = self.loop.create_task(
                self._drive(coro, context, None, token, asyncio.CancelledError()),
                context=Context(),
            )
            self._track(task)
            self._switch(session, retire=True)
            return task
        carrier.job = (coro, context, first, token)
        if not carrier.wake.done():
            carrier.wake.set_result(None)
        self._switch(session, retire=False)
        return carrier.task

    def _take_carrier(self) -> _Carrier:
        return self._idle.pop() if self._idle else self._new_carrier()

    def _switch(self, session: Session, retire: bool) -> None:
        """The session's carrier is taken (or cancelled): continue under a fresh one."""
        old, new = session.carrier, self._take_carrier()
        _leave_task(self.loop, old.task)
        _enter_task(self.loop, new.task)
        session.carrier = new
        if retire:
            old.wake.cancel()  # wakes it with no job: it ends

    def _release(self, carrier: _Carrier) -> None:
        """Back to the pool, unless the listener cancelled it: a cancelled carrier would
        pass that cancellation on to the next listener, so it retires."""
        if carrier.task.cancelling():
            carrier.wake.cancel()
        else:
            self._idle.append(carrier)

    def cancel(self) -> None:
        """Cancel every task: running listeners get CancelledError (and ``on_done``)."""
        for task in self._tasks:
            task.cancel()

    async def wait_closed(self) -> None:
        """Wait until every task of the pool has ended (after ``cancel``)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _new_carrier(self) -> _Carrier:
        carrier = _Carrier(self.loop.create_future())
        carrier.task = self.loop.create_task(self._carry(carrier), context=Context())
        self._track(carrier.task)
        return carrier

    async def _carry(self, carrier: _Carrier) -> None:
        """A carrier's life: wait for a started coroutine, drive it to its end, repeat."""
        carrier.started = True
        while True:
            pending: BaseException | None = None
            try:
                await carrier.wake
            except asyncio.CancelledError as exc:
                if carrier.job is None:  # the pool is closing
                    if carrier in self._idle:
                        self._idle.remove(carrier)
                    raise
                pending = exc  # the listener cancelled its own task in its first step
            job, carrier.job = carrier.job, None
            assert job is not None  # woken without a job only to end, handled above
            coro, context, first, token = job
            await self._drive(coro, context, first, token, pending)
            if len(self._idle) >= self._max_idle or carrier.task.cancelling():
                return  # enough idle carriers, or one whose task has a cancellation pending
            carrier.wake = self.loop.create_future()
            self._idle.append(carrier)

    async def _drive(
        self,
        coro: Coroutine[Any, Any, Any],
        context: Context,
        first: Any,
        token: Any,
        pending: BaseException | None,
    ) -> None:
        """Drive a started coroutine to its end and report it; re-raise a cancellation."""
        result: BaseException | None = None
        try:
            if pending is not None:
                first = context.run(coro.throw, pending)
            await _Resume(coro, context, first)
        except StopIteration:
            pass
        except BaseException as exc:
            result = exc
        context.run(self._on_done, token, result)
        if result is not None and not isinstance(result, Exception):
            raise result
