"""Retry with exponential backoff and jitter: for failures that pass (a blip, a restart)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ravyn.resilience.policy import check_positive


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
        check_positive(self.max_attempts, "RetryPolicy(max_attempts=...)", whole=True)
        check_positive(self.initial_delay, "RetryPolicy(initial_delay=...)")
        check_positive(self.max_delay, "RetryPolicy(max_delay=...)")
        check_positive(self.backoff_multiplier, "RetryPolicy(backoff_multiplier=...)")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        delay = min(self.initial_delay * self.backoff_multiplier ** (attempt - 1), self.max_delay)
        return delay * random.uniform(0.5, 1.0) if self.jitter else delay
