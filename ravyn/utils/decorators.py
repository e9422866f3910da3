"""The documented import path for the decorators users put on their functions:
`from ravyn.utils.decorators import observable, cache`."""

from ravyn.core.caches.decorator import cache
from ravyn.events.decorators import observable

__all__ = ["cache", "observable"]
