"""Listener policy: one value saying how a listener runs, applied by one function.

Every path that runs a listener (the in-process fan-out, a transport's delivery, a worker)
gets its coroutine from `PolicyRunner.executor(listener)`, so a listener behaves
the same wherever it runs, and a policy field is applied everywhere or nowhere.

Adding a field is one edit here: declare it on `ListenerPolicy` (its default must mean
"no policy": `trivial` is computed from every field, so it cannot be forgotten) and apply
it in `PolicyRunner._run`. `observable(...)` and `Listener(...)` pass their policy keywords
through to `ListenerPolicy` unchanged.

The resilience fields (`rate_limit`, `bulkhead`, `circuit_breaker`) hold objects of
`ravyn.resilience` that guard calls (`admit`/`release`, see `ravyn/resilience/policy.py`);
this module only calls those two methods, so events import nothing of the web layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from ravyn.events.errors import ListenerBindingError
from ravyn.events.retry import RetryPolicy

if TYPE_CHECKING:
    from ravyn.events.envelope import Event
    from ravyn.events.listener import Listener
    from ravyn.resilience.policy import Policy

logger = structlog.get_logger("ravyn.events")


@dataclass(frozen=True, slots=True)
class ListenerPolicy:
    """How one listener runs: ``timeout`` seconds per attempt, ``retry`` (a ``RetryPolicy``
    or a number of attempts), ``max_concurrency`` executions at once in this process.

    Resilience (``ravyn.resilience``), checked before each attempt: ``rate_limit`` a
    ``(RateLimiter, "50/s")`` pair (the listener waits for its turn: it smooths, never
    drops), ``bulkhead`` a ``Bulkhead`` (waits for a slot; one bulkhead may be shared with
    routes and other listeners), ``circuit_breaker`` a ``CircuitBreaker`` (while open the
    listener is not called: the attempt fails, a retry waits until the circuit half-opens,
    and with a transport a last failure is dead-lettered, so the event is never lost)."""

    timeout: float | None = None
    retry: RetryPolicy | None = None
    max_concurrency: int | None = None
    rate_limit: Policy | tuple[Any, str] | None = None
    bulkhead: Policy | None = None
    circuit_breaker: Policy | None = None

    trivial: bool = field(init=False, repr=False, compare=False)
    """No field set: the listener is called bare (the fast path), by construction."""
    guards: tuple[Policy, ...] = field(init=False, repr=False, compare=False)
    """The resilience fields set, in the order they admit an attempt."""

    def __post_init__(self) -> None:
        if isinstance(self.retry, int) and not isinstance(self.retry, bool):
            object.__setattr__(self, "retry", RetryPolicy(max_attempts=self.retry))
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be 1 or more (None means unlimited).")
        if isinstance(self.rate_limit, tuple):
            if len(self.rate_limit) != 2 or not hasattr(self.rate_limit[0], "limit"):
                raise ValueError('rate_limit takes a pair: rate_limit=(RateLimiter("x"), "50/s").')
            limiter, rate = self.rate_limit
            object.__setattr__(self, "rate_limit", limiter.limit(rate))
        guards = (self.rate_limit, self.bulkhead, self.circuit_breaker)
        for name, guard in zip(("rate_limit", "bulkhead", "circuit_breaker"), guards, strict=True):
            if guard is not None and not hasattr(guard, "admit"):
                raise ValueError(f"{name}={guard!r} is not a ravyn.resilience pattern.")
        object.__setattr__(self, "guards", tuple(g for g in guards if g is not None))
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


Refused = Callable[[str, str], None]
"""Counts a refusal by a resilience pattern (``pattern``, ``name``) in the bus metrics."""


class PolicyRunner:
    """Applies listener policies for one bus: it holds the state a policy needs across
    executions (the concurrency limiter of each listener)."""

    def __init__(self, count: Count, refused: Refused) -> None:
        self._count = count
        self._refused = refused
        self._limiters: dict[str, anyio.Semaphore] = {}

    def executor(self, listener: Listener) -> Callable[[Event], Coroutine[Any, Any, Any]]:
        """What makes the coroutine of one execution of ``listener`` for an event, under its
        policy: the bare call when the policy is trivial. Every path runs a listener through
        here (the fan-out asks once per listener and keeps the answer)."""
        if listener.policy.trivial:
            return listener.call
        return functools.partial(self._run_for, listener)

    def _run_for(self, listener: Listener, event: Event) -> Coroutine[Any, Any, None]:
        return self._run(event, listener)

    def reset(self) -> None:
        """Forget state bound to an event loop that is gone."""
        self._limiters.clear()

    async def _run(self, event: Event, listener: Listener) -> None:
        policy = listener.policy
        attempts = policy.retry.max_attempts if policy.retry is not None else 1
        for attempt in range(1, attempts + 1):
            try:
                if policy.guards:
                    await self._guarded_attempt(event, listener)
                elif policy.max_concurrency is None:
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
                retry_after = getattr(exc, "retry_after", None)
                if retry_after is not None:  # refused by an open circuit: try when it half-opens
                    delay = max(delay, retry_after)
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

    async def _guarded_attempt(self, event: Event, listener: Listener) -> None:
        """One attempt admitted by the listener's resilience patterns (keyed by its name),
        each told the outcome: a failure, or None when a pattern refused it."""
        admitted: list[tuple[Policy, Any]] = []
        failed: bool | None = None
        try:
            for guard in listener.policy.guards:
                admitted.append((guard, await guard.admit(listener.name, wait=True)))
            failed = True
            if listener.policy.max_concurrency is None:
                await self._attempt(event, listener)
            else:
                async with self._limiter(listener.name, listener.policy.max_concurrency):
                    await self._attempt(event, listener)
            failed = False
        except Exception as exc:
            pattern = getattr(exc, "pattern", None)
            if pattern is not None and failed is None:
                self._count(event, listener, "refused")
                self._refused(pattern, getattr(exc, "name", ""))
            raise
        finally:
            for guard, ticket in reversed(admitted):
                guard.release(ticket, failed)

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
