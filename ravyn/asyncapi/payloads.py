"""Which function sends an event, so its return annotation can describe the payload.

The registry knows each sender by its catalogue name (``module:qualname``). A route's
sender is found among the app's routes (its name there is ``POST /path``); any other
sender (a function, a scheduled job) is looked up by that name in its imported module.
A sender defined inside a function cannot be found: its payload is described as any value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from ravyn.events.binding import return_annotation
from ravyn.events.listener import listener_name
from ravyn.openapi.document import handler_endpoints


class SenderIndex:
    """Sender name -> (the function, the route that runs it or None)."""

    def __init__(self, routes: list[Any]) -> None:
        self.routes: dict[str, str] = {}
        self.functions: dict[str, Callable[..., Any] | None] = {}
        for endpoint in handler_endpoints(routes, schema_only=False):
            spec = endpoint.route.observable
            if spec is not None and spec.send:
                name = listener_name(spec.func)
                self.functions[name] = spec.func
                methods = "/".join(m for m in endpoint.route.methods if m != "HEAD")
                self.routes[name] = f"{methods} {endpoint.path}"

    def function(self, sender: str) -> Callable[..., Any] | None:
        if sender not in self.functions:
            self.functions[sender] = _import_by_name(sender)
        return self.functions[sender]

    def payload_annotation(self, sender: str) -> Any:
        """The sender's return annotation; ``Any`` when unknown."""
        func = self.function(sender)
        return Any if func is None else return_annotation(func)


def _import_by_name(name: str) -> Callable[..., Any] | None:
    module_name, _, qualname = name.partition(":")
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found if callable(found) else None
