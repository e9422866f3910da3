"""The envelope of new events: their ids, time, and the trace headers they inherit.

An event emitted by a listener continues the chain of the event that listener runs for
(same correlation id, causation id = that event's id); one emitted while serving a request
carries the request id as correlation id and its traceparent; any other starts a chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ravyn.events.context import current_event_var, request_trace_var
from ravyn.events.envelope import CAUSATION_ID, CORRELATION_ID, TRACEPARENT, Event, new_event_id


def make_events(
    names: Iterable[str], payload: Any, source: str = "", headers: dict[str, str] | None = None
) -> list[Event]:
    """New events of this task, one per name: trace headers from the context, then
    ``headers``. The context is read and the headers built once for all of them (each
    event still gets a dict of its own)."""
    parent = current_event_var.get()
    if parent is not None:
        parent_headers = parent.headers
        trace: dict[str, str] | None = {
            CORRELATION_ID: parent_headers.get(CORRELATION_ID, parent.id),
            CAUSATION_ID: parent.id,
        }
        traceparent = parent_headers.get(TRACEPARENT)
    else:
        request_trace = request_trace_var.get()
        if request_trace is None:
            trace = None  # each event starts its own chain: its id is the correlation id
            traceparent = None
        else:
            trace = {CORRELATION_ID: request_trace[0]}
            traceparent = request_trace[1]
    if trace is not None:
        if traceparent:
            trace[TRACEPARENT] = traceparent
        if headers:
            trace.update(headers)
    emitted_at = datetime.now(UTC)
    events: list[Event] = []
    for name in names:
        event_id = new_event_id()
        if trace is None:
            event_headers = {CORRELATION_ID: event_id}
            if headers:
                event_headers.update(headers)
        else:
            event_headers = trace.copy() if events else trace
        events.append(
            Event(
                name=name,
                payload=payload,
                id=event_id,
                emitted_at=emitted_at,
                source=source,
                headers=event_headers,
            )
        )
    return events
