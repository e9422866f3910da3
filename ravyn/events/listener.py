"""Listener: a function, its compiled binding and its resilience policy."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import structlog
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

from ravyn.events.binding import BindingPlan, compile_binding
from ravyn.events.envelope import Event
from ravyn.settings import DEFAULT_SYNC_LISTENER_THREADS

logger = structlog.get_logger("ravyn.events")


@dataclass(frozen=True, slots=True)
class Retry:
    """Run a failing listener up to ``attempts`` times in all, waiting ``backoff`` seconds
    before the second attempt and twice as long before each next one (at most
    ``max_backoff``)."""

    attempts: int = 3
    backoff: float = 0.1
    max_backoff: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("Retry(attempts=...) counts every attempt: give 1 or more.")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)


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
    takes the threads of sync routes.
    """

    __slots__ = (
        "func",
        "name",
        "events",
        "plan",
        "timeout",
        "retry",
        "max_concurrency",
        "broadcast",
        "is_async",
        "has_policy",
        "call",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        events: tuple[str, ...],
        *,
        timeout: float | None = None,
        retry: Retry | int | None = None,
        max_concurrency: int | None = None,
        broadcast: bool = False,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be 1 or more (None means unlimited).")
        self.func = func
        self.name = listener_name(func)
        self.events = events
        self.plan: BindingPlan = compile_binding(func, self.name)
        self.timeout = timeout
        self.retry = Retry(attempts=retry) if isinstance(retry, int) else retry
        self.max_concurrency = max_concurrency
        self.broadcast = broadcast
        self.is_async = inspect.iscoroutinefunction(func)
        if timeout is not None and not self.is_async:
            logger.warning(
                "listener_timeout_cannot_stop_a_thread",
                listener=self.name,
                timeout=timeout,
                hint="a plain def listener runs in a thread, which Python cannot interrupt: "
                "past the timeout it is reported as timed out and finishes late in its "
                "thread; make it async def to cut it short",
            )
        self.has_policy = timeout is not None or retry is not None or max_concurrency is not None
        self.call: Callable[[Event], Coroutine[Any, Any, Any]] = (
            self.plan.invoke if self.is_async else self._call_in_thread
        )

    async def _call_in_thread(self, event: Event) -> Any:
        if self.timeout is None:
            return await anyio.to_thread.run_sync(
                self.plan.invoke, event, limiter=sync_listener_threads()
            )
        # With a timeout, the caller stops waiting at the deadline (the run is then a
        # timeout, never `delivered`) while the thread, which nothing can interrupt, runs
        # on: its late finish is logged.
        started = time.monotonic()
        abandoned = False

        def run() -> Any:
            try:
                return self.plan.invoke(event)
            finally:
                if abandoned:
                    logger.warning(
                        "listener_finished_late",
                        listener=self.name,
                        event_name=event.name,
                        event_id=event.id,
                        timeout=self.timeout,
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
