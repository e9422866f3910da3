"""Context variables: which bus serves this task, and which event and request led here.

They let ``trigger_event`` find the right bus without a parameter, and let an event emitted
by a listener carry the causation and correlation ids of the event that triggered it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from ravyn.events.bus import EventBus
    from ravyn.events.envelope import Event

T = TypeVar("T")

current_bus_var: ContextVar[EventBus | None] = ContextVar("ravyn_current_bus", default=None)
current_event_var: ContextVar[Event | None] = ContextVar("ravyn_current_event", default=None)
request_trace_var: ContextVar[tuple[str, str | None] | None] = ContextVar(
    "ravyn_request_trace", default=None
)


class EmitSink(Protocol):
    """Takes the events emitted in its context instead of the bus sending them.

    A transactional outbox is one: it writes them in its database transaction, and its relay
    hands them to ``EventBus.dispatch`` once that transaction committed.
    """

    async def take(self, events: Sequence[Event]) -> None: ...


emit_sink_var: ContextVar[EmitSink | None] = ContextVar("ravyn_emit_sink", default=None)


def current_bus() -> EventBus:
    """The bus of the app serving this task, else the process default bus."""
    bus = current_bus_var.get()
    if bus is not None:
        return bus
    from ravyn.events.bus import default_bus  # bus.py imports this module

    return default_bus()


@contextmanager
def _bound(var: ContextVar[T], value: T) -> Iterator[T]:
    """``var`` holds ``value`` inside the block, and what it held before after it."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)


def bus_context(bus: EventBus) -> AbstractContextManager[EventBus | None]:
    """Make ``bus`` the current bus inside the block (an app does this per request)."""
    return _bound(current_bus_var, bus)


def current_event() -> Event | None:
    """The event whose listener is running in this task, if any."""
    return current_event_var.get()


def correlation_context(
    correlation_id: str, traceparent: str | None = None
) -> AbstractContextManager[tuple[str, str | None] | None]:
    """Events emitted inside the block carry this correlation id (the request id) and
    traceparent, so a chain of events can be traced back to its request."""
    return _bound(request_trace_var, (correlation_id, traceparent))


def emit_sink_context(sink: EmitSink) -> AbstractContextManager[EmitSink | None]:
    """Events emitted inside the block (on any bus) go to ``sink``, not to listeners."""
    return _bound(emit_sink_var, sink)
