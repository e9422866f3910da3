"""The Event envelope: the one format an event has in memory and on every transport."""

from __future__ import annotations

from datetime import datetime
from random import getrandbits
from typing import Any

import msgspec

CORRELATION_ID = "correlation-id"
"""Header: the request id (or the first event's id) shared by every event of one chain."""
CAUSATION_ID = "causation-id"
"""Header: the id of the event whose listener emitted this one."""
TRACEPARENT = "traceparent"
"""Header: the W3C trace context of the request that started the chain."""
SIGNATURE = "signature"
"""Header: HMAC signature, set by a transport when a secret is configured."""


_UUID4_MASK = ~(0xF000 << 64) & ~(0xC000 << 48) & ((1 << 128) - 1)
_UUID4_BITS = (0x4000 << 64) | (0x8000 << 48)


def new_event_id() -> str:
    """A random UUID4 as 32 hex digits, ~25x cheaper than ``uuid.uuid4().hex``
    (and 2x cheaper than formatting the int with ``:032x``).

    ``random`` is seeded from the OS and re-seeded in forked children, so ids stay unique
    across worker processes; they identify events, they are not secrets.
    """
    return (getrandbits(128) & _UUID4_MASK | _UUID4_BITS).to_bytes(16).hex()


class Event(msgspec.Struct, kw_only=True, frozen=True):
    """Something that happened, with enough context to trace where it came from.

    Frozen so that every listener of one event sees the same envelope; ``payload`` is the
    sender's return value as is (listeners must not mutate it).
    """

    name: str
    payload: Any = None
    id: str
    emitted_at: datetime
    source: str = ""
    headers: dict[str, str] = {}
    v: int = 1

    def __post_init__(self) -> None:
        # One rule for every transport, checked when an event is made and when one is
        # decoded: a name is text on one line. A newline in a name would otherwise forge
        # lines in the SSE stream (`event: ...`) or in a log.
        if not self.name or not self.name.isprintable():
            raise ValueError(
                f"event name {self.name!r} is empty or holds control characters: "
                "use printable text such as 'user_registered' or 'orders.created'"
            )

    @property
    def correlation_id(self) -> str | None:
        """The id shared by every event of this chain (the request id when there was one)."""
        return self.headers.get(CORRELATION_ID)

    @property
    def causation_id(self) -> str | None:
        """The id of the event that led to this one, if a listener emitted it."""
        return self.headers.get(CAUSATION_ID)
