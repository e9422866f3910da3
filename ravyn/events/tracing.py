"""The envelope of a new event: its id, time, and the trace headers it inherits.

An event emitted by a listener continues the chain of the event that listener runs for
(same correlation id, causation id = that event's id); one emitted while serving a request
carries the request id as correlation id and its traceparent; any other starts a chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ravyn.events.context import current_event_var, request_trace_var
from ravyn.events.envelope import CAUSATION_ID, CORRELATION_ID, TRACEPARENT, Event, new_event_id


def make_event(
    name: str, payload: Any, source: str = "", headers: dict[str, str] | None = None
) -> Event:
    """A new event of this task: trace headers from the context, then ``headers``."""
    event_id = new_event_id()
    parent = current_event_var.get()
    if parent is not None:
        parent_headers = parent.headers
        trace_headers = {
            CORRELATION_ID: parent_headers.get(CORRELATION_ID, parent.id),
            CAUSATION_ID: parent.id,
        }
        traceparent = parent_headers.get(TRACEPARENT)
    else:
        request_trace = request_trace_var.get()
        if request_trace is None:
            trace_headers = {CORRELATION_ID: event_id}
            traceparent = None
        else:
            trace_headers = {CORRELATION_ID: request_trace[0]}
            traceparent = request_trace[1]
    if traceparent:
        trace_headers[TRACEPARENT] = traceparent
    if headers:
        trace_headers.update(headers)
    return Event(
        name=name,
        payload=payload,
        id=event_id,
        emitted_at=datetime.now(UTC),
        source=source,
        headers=trace_headers,
    )
