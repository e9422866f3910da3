"""Listener: a function, its compiled binding and its policy (``policy.py``)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
import structlog
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

from ravyn.events.binding import EventBinding, compile_binding
from ravyn.events.envelope import Event
from ravyn.events.policy import NO_POLICY, ListenerPolicy
from ravyn.settings import DEFAULT_SYNC_LISTENER_THREADS

logger = structlog.get_logger("ravyn.events")


_sync_listener_threads: RunVar[CapacityLimiter] = RunVar("ravyn_sync_listener_threads")


def use_sync_listener_threads(threads: int) -> None:
    """Size the thread pool of plain ``def`` listeners for the running event loop.

    It is apart from the pool that runs plain ``def`` routes (anyio's default), so 50 slow
    listeners never make a request wait for a thread.
    """
    if threads < 1:
        raise ValueError(f"sync_listener_threads must be 1 or more, got {threads}")
    _sync_listener_threads.set(CapacityLimiter(threads))


def sync_listener_threads() -> CapacityLimiter:
    """The running loop's pool of threads for plain ``def`` listeners."""
    try:
        return _sync_listener_threads.get()
    except LookupError:
        use_sync_listener_threads(DEFAULT_SYNC_LISTENER_THREADS)
        return _sync_listener_threads.get()


def listener_name(func: Callable[..., Any]) -> str:
    """``module:qualname``: stable across processes, so transports use it as a group name."""
    func = getattr(func, "__func__", func)
    return f"{func.__module__}:{func.__qualname__}"


class Listener:
    """A function that reacts to events, ready to call with an Event.

    ``call(event)`` always returns a coroutine: sync functions run in a thread of their own
    pool (`sync_listener_threads`) so a blocking listener never stalls the event loop nor
    takes the threads of sync routes. ``policy`` says how it runs (a ``ListenerPolicy``, or
    its fields as keywords: ``timeout=``, ``retry=``, ``max_concurrency=``...);
    ``broadcast`` is its scope with a transport (every process, not once per cluster).
    """

    __slots__ = ("func", "name", "events", "binding", "policy", "broadcast", "is_async", "call")

    def __init__(
        self,
        func: Callable[..., Any],
        events: tuple[str, ...],
        *,
        broadcast: bool = False,
        policy: ListenerPolicy = NO_POLICY,
        **policy_fields: Any,
    ) -> None:
        self.func = func
        self.name = listener_name(func)
        self.events = events
        self.binding: EventBinding = compile_binding(func, self.name)
        self.policy = policy.merged(**policy_fields) if policy_fields else policy
        self.broadcast = broadcast
        self.is_async = inspect.iscoroutinefunction(func)
        timeout = self.policy.timeout
        if timeout is not None and not self.is_async:
            logger.warning(
                "listener_timeout_cannot_stop_a_thread",
                listener=self.name,
                timeout=timeout,
                hint="a plain def listener runs in a thread, which Python cannot interrupt: "
                "past the timeout it is reported as timed out and finishes late in its "
                "thread; make it async def to cut it short",
            )
        self.call: Callable[[Event], Coroutine[Any, Any, Any]] = (
            self.binding.invoke if self.is_async else self._call_in_thread
        )

    async def _call_in_thread(self, event: Event) -> Any:
        if self.policy.timeout is None:
            return await anyio.to_thread.run_sync(
                self.binding.invoke, event, limiter=sync_listener_threads()
            )
        # With a timeout, the caller stops waiting at the deadline (the run is then a
        # timeout, never `delivered`) while the thread, which nothing can interrupt, runs
        # on: its late finish is logged.
        started = time.monotonic()
        abandoned = False

        def run() -> Any:
            try:
                return self.binding.invoke(event)
            finally:
                if abandoned:
                    logger.warning(
                        "listener_finished_late",
                        listener=self.name,
                        event_name=event.name,
                        event_id=event.id,
                        timeout=self.policy.timeout,
                        seconds=round(time.monotonic() - started, 3),
                    )

        try:
            return await anyio.to_thread.run_sync(
                run, abandon_on_cancel=True, limiter=sync_listener_threads()
            )
        except anyio.get_cancelled_exc_class():
            abandoned = True
            raise

    def __repr__(self) -> str:
        return f"<Listener {self.name} listen={list(self.events)}>"
