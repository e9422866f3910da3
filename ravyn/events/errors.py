"""Errors of the event system, each saying what to do about it."""


class ObservableError(Exception):
    """``@observable`` was used in a way that cannot work."""


class ListenerBindingError(ObservableError, TypeError):
    """A listener parameter can never be bound from the events it listens to."""


class BusClosedError(RuntimeError):
    """The bus is stopping or stopped and accepts no new event."""
