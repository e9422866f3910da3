"""Which events a process must receive, read once from its registry at transport start.

Event names and wildcard patterns are the registry's (`*` matches any run of characters
but `.`). Brokers have coarser wildcards: a Redis glob `*` also crosses dots, a NATS `*`
stands for a whole token. So a pattern is widened to what the broker can express, and what
arrives is filtered again with the registry's own `matches` (by the stream discovery on Redis,
by the durable delivery and by `deliver_local_many` everywhere else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ravyn.events.listener import Listener
from ravyn.events.registry import Registry

GLOB_SPECIAL = re.compile(r"([?\[\]\\])")


@dataclass(frozen=True, slots=True)
class Interests:
    durable: tuple[tuple[Listener, tuple[str, ...]], ...]
    """Once-per-cluster listeners with the names and patterns each listens to."""
    broadcast: frozenset[str]
    """Names and patterns of the broadcast listeners (one feed per process)."""

    @classmethod
    def of(cls, registry: Registry) -> Interests:
        listeners = registry.listeners
        return cls(
            durable=tuple((lsn, lsn.events) for lsn in listeners if not lsn.broadcast),
            broadcast=frozenset(name for lsn in listeners if lsn.broadcast for name in lsn.events),
        )


def as_glob(pattern: str) -> str:
    """A Redis glob selecting at least the names `pattern` matches."""
    return GLOB_SPECIAL.sub(r"\\\1", pattern)


def as_subject(pattern: str) -> str:
    """NATS subject tokens selecting at least the names `pattern` matches."""
    return ".".join("*" if "*" in token else token for token in pattern.split("."))
