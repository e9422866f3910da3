"""The app settings a route applies, handed to it when the app finalizes its routes.

A route reads them from here, never from the app per request: the app builds one
`RouteSettings` from its `RavynSettings` and arguments, and `finalize_routes` gives it to
every endpoint with its path and inherited dependencies. A route mounted outside a Ravyn
app uses the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from ravyn.settings import RavynSettings

_DEFAULTS = RavynSettings()


@dataclass(frozen=True, slots=True)
class RouteSettings:
    wait_for_listeners: bool = _DEFAULTS.wait_for_listeners
    """Routes that send events wait for local listeners before responding."""
    max_body_size: int = _DEFAULTS.max_body_size
    max_form_parts: int = _DEFAULTS.max_form_parts
    max_form_field_size: int = _DEFAULTS.max_form_field_size


DEFAULT_ROUTE_SETTINGS = RouteSettings()
