"""Test helpers: record what a bus emitted and how each listener ended, wait until idle.

with capture(bus) as captured:
    await register("a@b.c")
    await captured.wait_idle()
captured.assert_emitted("user_registered", email="a@b.c")
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio

from ravyn.events.bus import EventBus
from ravyn.events.context import current_bus
from ravyn.events.envelope import Event
from ravyn.events.listener import Listener

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one listener execution ended: ``error`` is None when it succeeded."""

    event: Event
    listener: str
    error: BaseException | None

    @property
    def ok(self) -> bool:
        return self.error is None


class Capture:
    """What a bus did while captured: ``events`` emitted and listener ``outcomes``."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.events: list[Event] = []
        self.outcomes: list[Outcome] = []

    def emitted(self, event: Event) -> None:
        self.events.append(event)

    def finished(self, event: Event, listener: Listener, error: BaseException | None) -> None:
        self.outcomes.append(Outcome(event, listener.name, error))

    def names(self) -> list[str]:
        """Names of the emitted events, in order."""
        return [event.name for event in self.events]

    def delivered(self, listener: str | None = None) -> list[Outcome]:
        """Successful executions, of one listener (``module:qualname`` or a suffix of it)."""
        return [o for o in self.outcomes if o.ok and _named(o.listener, listener)]

    def failed(self, listener: str | None = None) -> list[Outcome]:
        """Failed (or cancelled) executions, of one listener if named."""
        return [o for o in self.outcomes if not o.ok and _named(o.listener, listener)]

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until no listener of the bus is in flight (fails after ``timeout`` s)."""
        with anyio.fail_after(timeout):
            await self.bus.idle()

    def assert_emitted(self, name: str, **payload_fields: Any) -> Event:
        """The first event called ``name`` whose payload has these field values; raises
        AssertionError listing what was emitted otherwise."""
        for event in self.events:
            if event.name == name and all(
                _field(event.payload, field) == value for field, value in payload_fields.items()
            ):
                return event
        emitted = [(event.name, event.payload) for event in self.events]
        raise AssertionError(
            f"No event {name!r} with payload fields {payload_fields} was emitted; "
            f"emitted: {emitted}"
        )

    def assert_not_emitted(self, name: str) -> None:
        """Raise AssertionError if an event called ``name`` was emitted."""
        if name in self.names():
            raise AssertionError(f"Event {name!r} was emitted: {self.names()}")


@contextmanager
def capture(bus: EventBus | None = None) -> Iterator[Capture]:
    """Record what ``bus`` (default: the current bus) emits and delivers inside the block."""
    bus = bus if bus is not None else current_bus()
    captured = Capture(bus)
    bus.taps.append(captured)
    try:
        yield captured
    finally:
        bus.taps.remove(captured)


def _named(full_name: str, wanted: str | None) -> bool:
    return wanted is None or full_name == wanted or full_name.endswith(("." + wanted, ":" + wanted))


def _field(payload: Any, field: str) -> Any:
    if isinstance(payload, dict):
        return payload.get(field, _MISSING)
    return getattr(payload, field, _MISSING)
