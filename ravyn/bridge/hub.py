"""The per-process fan-out from the bus to connected bridge clients.

The hub is fed by one broadcast listener and hands each event to every interested client
without ever awaiting one: each client owns a bounded queue, and a full queue is that
client's problem (its oldest events are dropped, or it is disconnected), never the bus's nor
the other clients'. The hub also keeps a small ring buffer of recent events so that an SSE
client reconnecting with `Last-Event-ID` can resume where it left off.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import anyio
import msgspec

from ravyn.events.envelope import SIGNATURE, Event

Overflow = Literal["drop_oldest", "disconnect"]
OVERFLOW_POLICIES: tuple[Overflow, ...] = ("drop_oldest", "disconnect")
_encode = msgspec.json.Encoder().encode


class BridgedEvent(NamedTuple):
    """An event as the bridge sends it: the envelope JSON-encoded once for every client."""

    id: str
    name: str
    json: str

    @classmethod
    def from_event(cls, event: Event) -> BridgedEvent:
        if SIGNATURE in event.headers:  # transport business, of no use to a browser
            headers = {key: value for key, value in event.headers.items() if key != SIGNATURE}
            event = msgspec.structs.replace(event, headers=headers)
        return cls(event.id, event.name, _encode(event).decode())


@dataclass(frozen=True, slots=True)
class Dropped:
    """Notice that the client's queue overflowed and its `count` oldest events were dropped."""

    count: int


class Ping:
    """Nothing happened for a ping interval: the endpoint keeps the connection alive."""


PING = Ping()


class Subscription:
    """The event names and patterns one or more clients receive, with a memo of decisions.

    Clients with the same patterns share one Subscription, so an event is matched once per
    distinct subscription instead of once per client.
    """

    __slots__ = ("patterns", "_matches", "_decided")

    _MEMO_LIMIT = 4096

    def __init__(self, patterns: frozenset[str], matches: Callable[[str, str], bool]) -> None:
        self.patterns = patterns
        self._matches = matches
        self._decided: dict[str, bool] = {}

    def wants(self, name: str) -> bool:
        decided = self._decided.get(name)
        if decided is None:
            if len(self._decided) >= self._MEMO_LIMIT:
                self._decided.clear()
            decided = any(self._matches(pattern, name) for pattern in self.patterns)
            self._decided[name] = decided
        return decided


class Client:
    """One connected client: its bounded queue and what the endpoint must tell it next."""

    __slots__ = (
        "subscription",
        "history_gap",
        "evicted",
        "_queue",
        "_size",
        "_overflow",
        "_dropped",
        "_ready",
    )

    def __init__(self, subscription: Subscription, size: int, overflow: Overflow) -> None:
        self.subscription = subscription
        self.history_gap = False
        self.evicted = anyio.Event()  # set when the "disconnect" policy dropped the client
        self._queue: deque[BridgedEvent] = deque()
        self._size = size
        self._overflow = overflow
        self._dropped = 0
        self._ready = anyio.Event()

    def offer(self, event: BridgedEvent) -> bool:
        """Queue `event` without waiting; False when the client must be disconnected."""
        if len(self._queue) >= self._size:
            if self._overflow == "disconnect":
                self.evicted.set()
                self._queue.clear()
                self._ready.set()
                return False
            self._queue.popleft()
            self._dropped += 1
        self._queue.append(event)
        self._ready.set()
        return True

    def keep_only(self, wanted: Callable[[str], bool]) -> None:
        """Drop queued events the client no longer wants (it changed its subscription)."""
        self._queue = deque(event for event in self._queue if wanted(event.name))

    async def stream(self, ping_interval: float) -> AsyncIterator[BridgedEvent | Dropped | Ping]:
        """What to send, in order: overflow notices, events, and a ping when idle.

        Ends when the client overflowed under the "disconnect" policy.
        """
        while not self.evicted.is_set():
            if self._dropped:  # right before the first event after the gap
                dropped, self._dropped = self._dropped, 0
                yield Dropped(dropped)
            elif self._queue:
                yield self._queue.popleft()
            else:
                with anyio.move_on_after(ping_interval):
                    await self._ready.wait()
                self._ready = anyio.Event()
                if not (self._queue or self._dropped or self.evicted.is_set()):
                    yield PING


class Hub:
    """Fans bridged events out to this process's clients and remembers the recent ones."""

    def __init__(
        self,
        *,
        matches: Callable[[str, str], bool],
        queue_size: int = 100,
        overflow: Overflow = "drop_oldest",
        history_size: int = 1000,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}.")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(
                f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}; got {overflow!r}."
            )
        if history_size < 0:
            raise ValueError(f"history_size must be 0 or more, got {history_size}.")
        self._matches = matches
        self._queue_size = queue_size
        self._overflow: Overflow = overflow
        self._history: deque[BridgedEvent] = deque(maxlen=history_size)
        self._groups: dict[frozenset[str], tuple[Subscription, set[Client]]] = {}

    @property
    def client_count(self) -> int:
        return sum(len(clients) for _, clients in self._groups.values())

    def publish(self, event: Event) -> None:
        """Hand `event` to every interested client; never waits, whatever the clients do."""
        bridged = BridgedEvent.from_event(event)
        self._history.append(bridged)
        evicted: list[Client] = []
        for subscription, clients in self._groups.values():
            if subscription.wants(bridged.name):
                for client in clients:
                    if not client.offer(bridged):
                        evicted.append(client)
        for client in evicted:
            self.disconnect(client)

    def connect(self, patterns: Iterable[str], *, last_event_id: str | None = None) -> Client:
        """Register a client; with `last_event_id`, queue the remembered events after it.

        Registration and replay happen in one step, so no event falls between them. When
        the id is no longer (or never was) in the history, `client.history_gap` is set.
        """
        subscription, members = self._group(frozenset(patterns))
        client = Client(subscription, self._queue_size, self._overflow)
        members.add(client)
        if last_event_id is not None:
            self._replay(client, last_event_id)
        return client

    def subscribe(self, client: Client, patterns: Iterable[str]) -> None:
        """Change what a connected client receives: from now on, and what is still queued."""
        if client.evicted.is_set():
            return
        self.disconnect(client)
        client.subscription, members = self._group(frozenset(patterns))
        members.add(client)
        client.keep_only(client.subscription.wants)

    def disconnect(self, client: Client) -> None:
        """Forget a client (idempotent); the endpoint calls it whenever a connection ends."""
        group = self._groups.get(client.subscription.patterns)
        if group is None:
            return
        group[1].discard(client)
        if not group[1]:
            del self._groups[client.subscription.patterns]

    def _group(self, patterns: frozenset[str]) -> tuple[Subscription, set[Client]]:
        group = self._groups.get(patterns)
        if group is None:
            group = self._groups[patterns] = (Subscription(patterns, self._matches), set())
        return group

    def _replay(self, client: Client, last_event_id: str) -> None:
        history = tuple(self._history)
        position = next(
            (index for index, bridged in enumerate(history) if bridged.id == last_event_id),
            None,
        )
        if position is None:
            client.history_gap = True
            return
        for bridged in history[position + 1 :]:
            if client.subscription.wants(bridged.name) and not client.offer(bridged):
                self.disconnect(client)
                return
