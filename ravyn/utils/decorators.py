"""Decorators users put on their functions: `from ravyn.utils.decorators import cache` is
the documented path of `cache`; `observable` is documented as `from ravyn import observable`
and stays importable here, where the first samples found it."""

from ravyn.core.caches.decorator import cache
from ravyn.events.decorators import observable

__all__ = ["cache", "observable"]
