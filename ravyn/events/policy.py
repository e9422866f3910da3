"""Listener policy: one value saying how a listener runs, applied by one function.

Every path that runs a listener (the in-process fan-out, a transport's delivery, a worker)
gets its coroutine from `PolicyRunner.execution(event, listener)`, so a listener behaves
the same wherever it runs, and a policy field is applied everywhere or nowhere.

Adding a field is one edit here: declare it on `ListenerPolicy` (its default must mean
"no policy": `trivial` is computed from every field, so it cannot be forgotten) and apply
it in `PolicyRunner._run`. `observable(...)` and `Listener(...)` pass their policy keywords
through to `ListenerPolicy` unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from ravyn.events.errors import ListenerBindingError

if TYPE_CHECKING:
    from ravyn.events.envelope import Event
    from ravyn.events.listener import Listener

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


@dataclass(frozen=True, slots=True)
class ListenerPolicy:
    """How one listener runs: ``timeout`` seconds per attempt, ``retry`` (a ``Retry`` or a
    number of attempts), ``max_concurrency`` executions at once in this process."""

    timeout: float | None = None
    retry: Retry | None = None
    max_concurrency: int | None = None
    # Resilience fields go here (ravyn/resilience): circuit_breaker, rate_limit, bulkhead,
    # each defaulting to None and applied in PolicyRunner._run.

    trivial: bool = field(init=False, repr=False, compare=False)
    """No field set: the listener is called bare (the fast path), by construction."""

    def __post_init__(self) -> None:
        if isinstance(self.retry, int) and not isinstance(self.retry, bool):
            object.__setattr__(self, "retry", Retry(attempts=self.retry))
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be 1 or more (None means unlimited).")
        trivial = all(
            getattr(self, spec.name) == spec.default for spec in fields(self) if spec.init
        )
        object.__setattr__(self, "trivial", trivial)

    def merged(self, **changes: Any) -> ListenerPolicy:
        """This policy with the fields given (not None) replaced."""
        values = {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.init}
        values.update({name: value for name, value in changes.items() if value is not None})
        return ListenerPolicy(**values)


NO_POLICY = ListenerPolicy()

Count = Callable[["Event", "Listener", str], None]
"""Adds one to a named counter of an event and a listener (``retried``, ``timed_out``)."""


class PolicyRunner:
    """Applies listener policies for one bus: it holds the state a policy needs across
    executions (the concurrency limiter of each listener)."""

    def __init__(self, count: Count) -> None:
        self._count = count
        self._limiters: dict[str, anyio.Semaphore] = {}

    def execution(self, event: Event, listener: Listener) -> Coroutine[Any, Any, Any]:
        """The coroutine of one execution of ``listener`` for ``event`` under its policy:
        the bare call when the policy is trivial. Every path runs a listener through here."""
        if listener.policy.trivial:
            return listener.call(event)
        return self._run(event, listener)

    def reset(self) -> None:
        """Forget state bound to an event loop that is gone."""
        self._limiters.clear()

    async def _run(self, event: Event, listener: Listener) -> None:
        policy = listener.policy
        attempts = policy.retry.attempts if policy.retry is not None else 1
        for attempt in range(1, attempts + 1):
            try:
                if policy.max_concurrency is None:
                    await self._attempt(event, listener)
                else:
                    async with self._limiter(listener.name, policy.max_concurrency):
                        await self._attempt(event, listener)
                return
            except ListenerBindingError:
                raise  # the same payload will never bind: retrying cannot help
            except Exception as exc:
                if policy.retry is None or attempt == attempts:
                    raise
                self._count(event, listener, "retried")
                delay = policy.retry.delay(attempt)
                logger.warning(
                    "listener_retry",
                    event_name=event.name,
                    event_id=event.id,
                    listener=listener.name,
                    attempt=attempt,
                    delay=delay,
                    error=repr(exc),
                )
                await anyio.sleep(delay)

    async def _attempt(self, event: Event, listener: Listener) -> None:
        timeout = listener.policy.timeout
        if timeout is None:
            await listener.call(event)
            return
        try:
            with anyio.fail_after(timeout):
                await listener.call(event)
        except TimeoutError:
            self._count(event, listener, "timed_out")
            raise

    def _limiter(self, name: str, max_concurrency: int) -> anyio.Semaphore:
        limiter = self._limiters.get(name)
        if limiter is None:
            limiter = self._limiters[name] = anyio.Semaphore(max_concurrency)
        return limiter
