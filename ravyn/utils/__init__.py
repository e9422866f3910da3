"""Helpers users import by their documented paths (`ravyn.utils.decorators`)."""
