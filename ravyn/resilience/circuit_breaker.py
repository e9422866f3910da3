"""Circuit breaker: stop calling what keeps failing, and try again after a while.

Closed, calls run and consecutive failures are counted; at ``failure_threshold`` the
circuit opens and calls are refused (503, ``Retry-After`` = seconds until the trial). After
``recovery_timeout`` the next call half-opens it: up to ``half_open_max_calls`` trial calls
run; ``success_threshold`` successes close it, one failure opens it again.

Each change of state is logged and emitted on the current bus as
``resilience.circuit.opened`` / ``half_opened`` / ``closed`` with ``{"name", "failures"}``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from ravyn.events.context import current_bus
from ravyn.resilience.policy import Refused, check_positive

logger = structlog.get_logger("ravyn.resilience")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
EVENTS = {
    OPEN: "resilience.circuit.opened",
    HALF_OPEN: "resilience.circuit.half_opened",
    CLOSED: "resilience.circuit.closed",
}


class CircuitBreaker:
    """A circuit named ``name`` (in its events, logs and refusals)."""

    def __init__(
        self,
        name: str = "default",
        failure_threshold: int = 5,
        recovery_timeout: float = 60.0,
        *,
        success_threshold: int = 1,
        half_open_max_calls: int = 1,
    ) -> None:
        check_positive(failure_threshold, "CircuitBreaker(failure_threshold=...)", whole=True)
        check_positive(recovery_timeout, "CircuitBreaker(recovery_timeout=...)")
        check_positive(success_threshold, "CircuitBreaker(success_threshold=...)", whole=True)
        check_positive(half_open_max_calls, "CircuitBreaker(half_open_max_calls=...)", whole=True)
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self.success_threshold = success_threshold
        self.half_open_max_calls = half_open_max_calls
        self.state = CLOSED
        self.failures = 0  # consecutive failures
        self.generation = 0  # a call's ticket: its outcome counts only in the state it began in
        self._opened_at = 0.0
        self._trials = 0  # half-open calls in flight
        self._successes = 0  # half-open successes so far
        self._announcements: set[asyncio.Task[Any]] = set()

    async def admit(self, key: str = "", *, wait: bool = False) -> int:
        return self.admit_now(key)

    def admit_now(self, key: str = "") -> int:
        state = self.state
        if state is OPEN:
            remaining = self._opened_at + self.recovery_timeout - time.monotonic()
            if remaining > 0:
                raise self._refusal(remaining)
            self._change(HALF_OPEN)
        elif state is CLOSED:
            return self.generation
        if self._trials >= self.half_open_max_calls:
            raise self._refusal(1.0)  # a trial is under way: its outcome comes soon
        self._trials += 1
        return self.generation

    def release(self, ticket: int, failed: bool | None) -> None:
        if ticket != self.generation:
            return  # started before the last change of state: says nothing about now
        if self.state is CLOSED:
            if failed:
                self.failures += 1
                if self.failures >= self.failure_threshold:
                    self._change(OPEN)
            elif failed is False:
                self.failures = 0
            return
        self._trials -= 1  # HALF_OPEN (an OPEN circuit admits nothing)
        if failed:
            self.failures += 1
            self._change(OPEN)
        elif failed is False:
            self._successes += 1
            if self._successes >= self.success_threshold:
                self.failures = 0
                self._change(CLOSED)

    def _refusal(self, retry_after: float) -> Refused:
        return Refused(
            503,
            f"Service unavailable: circuit {self.name!r} is open.",
            pattern="circuit_breaker",
            name=self.name,
            retry_after=retry_after,
        )

    def _change(self, state: str) -> None:
        self.state = state
        self.generation += 1
        self._trials = 0
        self._successes = 0
        if state is OPEN:
            self._opened_at = time.monotonic()
        event_name = EVENTS[state]
        log = logger.warning if state is OPEN else logger.info
        log(event_name, circuit=self.name, failures=self.failures)
        # a task: the change happens inside sync bookkeeping, on the loop of the call
        task = asyncio.get_running_loop().create_task(self._announce(event_name, self.failures))
        self._announcements.add(task)
        task.add_done_callback(self._announcements.discard)

    async def _announce(self, event_name: str, failures: int) -> None:
        """Emit the change on the bus of the app (or listener) whose call caused it."""
        try:
            await current_bus().emit(event_name, {"name": self.name, "failures": failures})
        except Exception as exc:  # a stopping bus: the log line above already tells
            logger.warning("circuit_event_not_emitted", circuit=self.name, error=repr(exc))

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name!r} {self.state} failures={self.failures}>"
