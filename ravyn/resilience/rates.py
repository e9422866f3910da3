"""Rates written as users write them: ``"100/minute"``, ``"10/s"``, ``"1000/hour"``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ravyn.exceptions import ImproperlyConfigured

PERIODS = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip
_RATE = re.compile(r"\s*(-?\d+)\s*/\s*([a-z]+)\s*")


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` calls per ``period`` seconds, spread evenly: a burst of up to ``limit``,
    then one call every ``interval`` seconds."""

    limit: int
    period: float
    text: str
    interval: float = field(init=False)
    burst: float = field(init=False)
    """How far ahead of now a key's next arrival may be: ``period - interval``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", self.period / self.limit)
        object.__setattr__(self, "burst", self.period - self.interval)

    def __str__(self) -> str:
        return self.text


def parse_rate(text: str | Rate) -> Rate:
    """``"N/unit"`` with unit second, minute, hour or day (or s, sec, m, min, h, d)."""
    if isinstance(text, Rate):
        return text
    match = _RATE.fullmatch(text.lower()) if isinstance(text, str) else None
    if match is None or match.group(2) not in PERIODS:
        raise ImproperlyConfigured(
            f"Rate {text!r} is not understood: write N/second, N/minute, N/hour or N/day "
            "(e.g. '100/minute')."
        )
    limit = int(match.group(1))
    if limit < 1:
        raise ImproperlyConfigured(f"Rate {text!r} allows nothing: the count must be 1 or more.")
    return Rate(limit, PERIODS[match.group(2)], text)
