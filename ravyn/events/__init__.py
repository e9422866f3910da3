"""ravyn.events: the observable bus. Usable alone, in a script, a worker or a test."""

from ravyn.events.bus import EventBus, default_bus
from ravyn.events.context import bus_context, correlation_context, current_bus, current_event
from ravyn.events.decorators import ObservableSpec, attach, observable, observable_spec
from ravyn.events.envelope import Event
from ravyn.events.errors import BusClosedError, ListenerBindingError, ObservableError
from ravyn.events.listener import Listener
from ravyn.events.policy import ListenerPolicy
from ravyn.events.registry import Registry, active_registry, default_registry, use_registry
from ravyn.events.retry import Retry, RetryPolicy
from ravyn.events.triggers import trigger_event

__all__ = [
    "BusClosedError",
    "Event",
    "EventBus",
    "Listener",
    "ListenerPolicy",
    "ListenerBindingError",
    "ObservableError",
    "ObservableSpec",
    "Registry",
    "Retry",
    "RetryPolicy",
    "active_registry",
    "attach",
    "bus_context",
    "correlation_context",
    "current_bus",
    "current_event",
    "default_bus",
    "default_registry",
    "observable",
    "observable_spec",
    "trigger_event",
    "use_registry",
]
