"""``trigger_event``: emit an event from anywhere, on the bus serving the current task."""

from __future__ import annotations

from typing import Any

from ravyn.events.context import current_bus
from ravyn.events.envelope import Event


async def trigger_event(
    name: str,
    payload: Any = None,
    *,
    wait: bool = False,
    headers: dict[str, str] | None = None,
    source: str = "trigger_event",
) -> Event:
    """Emit ``name`` on the current app's bus (the process default bus outside an app).

    Inside a listener the new event carries the triggering event's id as its causation id
    and the same correlation id. ``wait=True`` returns once the local listeners finished.
    """
    return await current_bus().emit(name, payload, wait=wait, headers=headers, source=source)
