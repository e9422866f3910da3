"""Turn the ``middleware=[...]`` a user writes into Lilya ``DefineMiddleware`` entries.

Accepted entries: ``DefineMiddleware(cls, **options)``, a bare class, or a class followed
by a dict of its options (``[CORSMiddleware, {"allow_origins": ["*"]}]``).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from lilya.middleware import DefineMiddleware

from ravyn.exceptions import ImproperlyConfigured


def normalize_middleware(entries: Sequence[Any] | None) -> list[DefineMiddleware]:
    """The entries as ``DefineMiddleware`` objects, outermost first."""
    definitions: list[DefineMiddleware] = []
    pending: Any = None
    for entry in entries or ():
        if isinstance(entry, dict):
            if pending is None:
                raise ImproperlyConfigured(
                    f"Middleware options {entry!r} follow no middleware class: write "
                    "[SomeMiddleware, {...options}] or DefineMiddleware(SomeMiddleware, ...)."
                )
            definitions.append(DefineMiddleware(pending, **entry))
            pending = None
            continue
        if pending is not None:
            definitions.append(DefineMiddleware(pending))
            pending = None
        if isinstance(entry, DefineMiddleware):
            definitions.append(entry)
        elif inspect.isclass(entry) or callable(entry) or isinstance(entry, str):
            pending = entry
        else:
            raise ImproperlyConfigured(
                f"{entry!r} is not a middleware: give an ASGI middleware class, "
                "DefineMiddleware(cls, **options), or a class followed by a dict of options."
            )
    if pending is not None:
        definitions.append(DefineMiddleware(pending))
    return definitions


def build_stack(app: Any, definitions: Sequence[DefineMiddleware]) -> Any:
    """Wrap ``app`` in the middleware, the first definition outermost."""
    for definition in reversed(definitions):
        cls, args, kwargs = definition
        app = cls(app, *args, **kwargs)
    return app
