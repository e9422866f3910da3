"""Errors of the event system, each saying what to do about it."""


class ObservableError(Exception):
    """``@observable`` was used in a way that cannot work."""


class ListenerBindingError(ObservableError, TypeError):
    """A listener parameter can never be bound from the events it listens to."""


class BusClosedError(RuntimeError):
    """The bus is stopping or stopped and accepts no new event."""


class ImproperlyConfigured(ValueError):
    """The application is declared in a way that can never work; the message says how to fix it.

    Defined here, on the side that loads no web layer, so listeners' settings raise it too;
    ``ravyn.exceptions`` exports it."""
