"""Retry with exponential backoff and jitter: for failures that pass (a blip, a restart).

One type for listeners (``observable(retry=RetryPolicy(...))``) and routes
(``retry_route(RetryPolicy(...))``); it lives on the event side, which loads no web layer,
and ``ravyn.resilience`` re-exports it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ravyn.events.errors import ImproperlyConfigured


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to ``max_attempts`` attempts in all. Before attempt n+1 it waits
    ``initial_delay * backoff_multiplier**(n-1)`` seconds (at most ``max_delay``); with
    ``jitter`` a random half to all of it, so many clients retrying do not move in step."""

    max_attempts: int = 3
    initial_delay: float = 0.1
    max_delay: float = 10.0
    backoff_multiplier: float = 2.0
    jitter: bool = True

    def __post_init__(self) -> None:
        attempts = self.max_attempts
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
            raise ImproperlyConfigured(
                f"RetryPolicy(max_attempts=...) counts every attempt: give 1 or more, "
                f"got {attempts!r}."
            )
        for name in ("initial_delay", "max_delay", "backoff_multiplier"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                raise ImproperlyConfigured(
                    f"RetryPolicy({name}=...) must be a number above 0, got {value!r}."
                )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        delay = min(self.initial_delay * self.backoff_multiplier ** (attempt - 1), self.max_delay)
        return delay * random.uniform(0.5, 1.0) if self.jitter else delay


Retry = RetryPolicy
"""The name listeners used first (``from ravyn import Retry``): the same class."""
