"""Who may receive what: the bridge's exposure list, the authorization hook, and requests.

Nothing leaves the bridge unless it is in the `events` the bridge was built with; the
`authorize` hook can only narrow that, per connection, and a client can only ask for a part
of what it is allowed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TypeAlias

from lilya.requests import Connection

Authorization: TypeAlias = bool | Iterable[str]
Authorize: TypeAlias = Callable[[Connection], Authorization | Awaitable[Authorization]]
Matches: TypeAlias = Callable[[str, str], bool]


class SubscriptionRefused(Exception):
    """A client asked for events it may not receive; the message says which, and what it may."""


class Access:
    """Decides, per connection, which of the exposed events a client may subscribe to."""

    def __init__(
        self,
        events: Sequence[str],
        authorize: Authorize | None,
        *,
        matches: Matches,
        is_pattern: Callable[[str], bool],
    ) -> None:
        if isinstance(events, str) or not events:
            raise ValueError(
                "EventBridge needs the list of events it may expose, "
                "e.g. EventBridge(events=['new_comment', 'user.*'])."
            )
        self.events: tuple[str, ...] = tuple(dict.fromkeys(events))
        self._authorize = authorize
        self._matches = matches
        self._is_pattern = is_pattern

    async def allowed_for(self, connection: Connection) -> tuple[str, ...]:
        """The names and patterns this connection may receive; empty when it is refused."""
        if self._authorize is None:
            return self.events
        decision = self._authorize(connection)
        if inspect.isawaitable(decision):
            decision = await decision
        if isinstance(decision, bool):
            return self.events if decision else ()
        if isinstance(decision, str) or not isinstance(decision, Iterable):
            raise TypeError(
                "An EventBridge authorize hook must return True, False or a set of event "
                f"names/patterns (possibly awaitable); it returned {decision!r}."
            )
        return tuple(name for name in sorted(set(decision)) if self.covers(self.events, name))

    def resolve(self, requested: Sequence[str] | None, allowed: Sequence[str]) -> tuple[str, ...]:
        """What the client receives: all it may (`requested` is None) or the part it asked."""
        if requested is None:
            return tuple(allowed)
        refused = [name for name in requested if not self.covers(allowed, name)]
        if refused:
            raise SubscriptionRefused(
                f"Not allowed to subscribe to {', '.join(refused)}: this connection may receive "
                f"{', '.join(allowed)}."
            )
        return tuple(dict.fromkeys(requested))

    def covers(self, allowed: Sequence[str], name: str) -> bool:
        """True when `name` (a name or a pattern) asks for nothing beyond `allowed`.

        A pattern is covered only by the same pattern: deciding whether one pattern is
        contained in another is not worth the risk of exposing too much.
        """
        if name in allowed:
            return True
        return not self._is_pattern(name) and any(
            self._matches(pattern, name) for pattern in allowed
        )


def requested_events(connection: Connection) -> tuple[str, ...] | None:
    """The `events` query parameter (`?events=a,b` or repeated); None when it is absent."""
    query = connection.query_params
    if "events" not in query:
        return None
    values = query.getall("events")
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())
