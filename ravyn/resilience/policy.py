"""The contract every guarding pattern implements, and how a call's end is judged.

A *policy* (``CircuitBreaker``, ``Bulkhead``, ``LoadShedder``, a ``RateLimiter`` bound to a
rate) guards calls: ``admit`` lets a call in or refuses it, ``release`` tells it how the call
ended. Route decorators and listeners drive policies through these methods, so a new
pattern works everywhere by implementing them (``ResilienceMiddleware``, on every request
of an app, counts the built-in patterns' common case in line and calls them for the
rest). ``admit_now`` is ``admit`` for the common case that needs no waiting: a request
admitted at once costs no coroutine.

Refusals are HTTP errors: raised in a route they become ``{"detail": ...}`` responses with
their status and ``Retry-After``; raised in a listener they are a failed delivery.
"""

from __future__ import annotations

import math
from typing import Any, Final, Protocol

from ravyn.events.context import current_bus
from ravyn.exceptions import HTTPException, ImproperlyConfigured


class Refused(HTTPException):
    """A pattern did not run the call: ``pattern`` and ``name`` say which one, and
    ``retry_after`` (seconds, or None) when trying again makes sense."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        pattern: str,
        name: str,
        retry_after: float | None = None,
    ) -> None:
        headers = None
        if retry_after is not None:
            headers = {"retry-after": str(max(1, math.ceil(retry_after)))}
        super().__init__(status_code, detail, headers=headers)
        self.pattern = pattern
        self.name = name
        self.retry_after = retry_after


def count_refusal(refused: Refused) -> None:
    """Count it in the metrics of the current bus (the app's), by pattern and name: a
    refusal storm is a number to watch, not an event per refusal."""
    current_bus().metrics.refused(refused.pattern, refused.name)


class TimedOut(HTTPException):
    """The call ran longer than its timeout and was cancelled: a 504, and a failure."""

    status_code = 504

    def __init__(self, seconds: float) -> None:
        super().__init__(504, f"Timed out after {seconds:g} seconds.")
        self.seconds = seconds


MUST_WAIT: Final = object()
"""What ``admit_now`` returns when only ``await admit(...)`` can decide."""


class Policy(Protocol):
    """A pattern that guards calls."""

    def admit_now(self, key: str) -> Any:
        """``admit`` without waiting, for the common case that needs no await: the
        ticket, or raise ``Refused``, or return ``MUST_WAIT`` when only ``await
        admit(key)`` can decide (a queue to join, a backend across the network). Callers
        try it first, so a call admitted at once costs no coroutine."""

    async def admit(self, key: str, *, wait: bool = False) -> Any:
        """Let one call in, or raise ``Refused``. ``key`` says whose call it is (a client
        address, a listener name); ``wait=True`` waits for room where the pattern can
        (listeners smooth out instead of being refused). The value returned is the
        ticket handed back to ``release``."""

    def release(self, ticket: Any, failed: bool | None) -> None:
        """The admitted call ended: ``failed`` True or False, or None when it has no
        outcome (a pattern further in refused it)."""


def is_failure(exc: BaseException) -> bool | None:
    """How an exception counts for a circuit breaker: a 4xx is the client's doing (the
    service worked: False), a refusal means the call never ran (None), anything else
    (a 5xx, a timeout, an error) is a failure."""
    if isinstance(exc, Refused):
        return None
    if isinstance(exc, HTTPException):
        return (exc.status_code or 500) >= 500
    return True


def is_retryable(exc: BaseException) -> bool:
    """A retry tries again after an error or a 5xx, never after a 4xx."""
    if isinstance(exc, HTTPException):
        return (exc.status_code or 500) >= 500
    return isinstance(exc, Exception)


def check_positive(value: object, what: str, *, whole: bool = False) -> None:
    """Refuse, at construction and in one line, a setting that can never work."""
    if whole:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ImproperlyConfigured(f"{what} must be a whole number above 0, got {value!r}.")
    elif not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
        raise ImproperlyConfigured(f"{what} must be a number of seconds above 0, got {value!r}.")
