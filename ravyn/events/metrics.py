"""Counters per event and per listener, cheap enough to update on every delivery."""

from __future__ import annotations

from typing import Any

COUNTER_NAMES = (
    "emitted",
    "delivered",
    "failed",
    "retried",
    "timed_out",
    "refused",
    "in_flight",
    "waiting",
    "dropped",
)


class Counters:
    """One set of counters. ``in_flight`` and ``waiting`` are gauges (current values):
    listener executions running in a task, and emits waiting for capacity."""

    __slots__ = COUNTER_NAMES
    emitted: int
    delivered: int
    failed: int
    retried: int
    timed_out: int
    refused: int
    in_flight: int
    waiting: int
    dropped: int

    def __init__(self) -> None:
        for name in COUNTER_NAMES:
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTER_NAMES}


class Metrics:
    """Counters of one bus, keyed by event name and by listener name."""

    def __init__(self) -> None:
        self.events: dict[str, Counters] = {}
        self.listeners: dict[str, Counters] = {}
        # refusals by resilience pattern and name ({"rate_limiter": {"api": 3}}): routes,
        # middleware and listeners of the bus's app count here, rather than emit an event each
        self.refusals: dict[str, dict[str, int]] = {}

    def for_event(self, name: str) -> Counters:
        counters = self.events.get(name)
        if counters is None:
            counters = self.events[name] = Counters()
        return counters

    def for_listener(self, name: str) -> Counters:
        counters = self.listeners.get(name)
        if counters is None:
            counters = self.listeners[name] = Counters()
        return counters

    def refused(self, pattern: str, name: str) -> None:
        """One more call refused by the resilience pattern ``pattern`` named ``name``."""
        by_name = self.refusals.setdefault(pattern, {})
        by_name[name] = by_name.get(name, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        """Plain data (for logs, a /metrics endpoint or a test):
        ``{"events": {name: counters}, "listeners": {name: counters},
        "refusals": {pattern: {name: count}}}``."""
        return {
            "events": {name: c.as_dict() for name, c in sorted(self.events.items())},
            "listeners": {name: c.as_dict() for name, c in sorted(self.listeners.items())},
            "refusals": {
                pattern: dict(sorted(names.items()))
                for pattern, names in sorted(self.refusals.items())
            },
        }
