"""Waiting between tries against a broker that does not answer."""

from __future__ import annotations

import random


class Backoff:
    """Exponential delays with jitter, so reconnecting processes do not stampede a server."""

    def __init__(self, initial: float = 0.05, maximum: float = 5.0) -> None:
        self.initial = initial
        self.maximum = maximum

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first retry)."""
        ceiling = min(self.maximum, self.initial * 2.0 ** max(attempt - 1, 0))
        return ceiling * random.uniform(0.5, 1.0)
