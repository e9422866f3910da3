"""In-memory transport: the scopes of Redis and NATS inside one process, for tests.

`event_transport="memory://"` (or `memory://name`) gives each bus a `MemoryTransport` on
the process's in-memory broker of that name. Every bus on one broker plays a process of a
cluster: a durable listener is a consumer group, so each event runs once among the buses
that hold the listener (and waits while none is started); a broadcast listener runs once in
every bus. Events are encoded, signed and checked exactly as on the wire, dead letters are
kept (`broker.dead_letters`), unsettled messages come back after `visibility_timeout`, and
`acquire_once` is first-wins. Nothing leaves the process: use Redis or NATS across processes.

A broker lives as long as a transport (or a test holding `MemoryBroker.named(name)`) uses it.
Buses on different event loops may share it (two `TestClient`s each run their own loop in a
thread): its state is guarded by a lock, and waiters are woken on their own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Unpack

from ravyn.events.registry import matches
from ravyn.events.transports.broker import (
    BroadcastFeed,
    BrokerOptions,
    BrokerTransport,
    DurableConsumer,
)
from ravyn.events.transports.delivery import Settlement, Verdict
from ravyn.events.transports.outbox import Outgoing

if TYPE_CHECKING:
    from ravyn.events.listener import Listener


@dataclass(eq=False, slots=True)
class Message:
    """One event in a consumer group; `deliveries` counts the times it was taken."""

    data: bytes
    deliveries: int = 0
    taken_at: float = 0.0


@dataclass(frozen=True, slots=True)
class DeadLetter:
    data: bytes
    listener: str
    deliveries: int
    error: str
    failed_at: str


class Group:
    """A durable listener's queue: each message is taken by one consumer, and taken again
    when it stays unsettled past the visibility timeout."""

    def __init__(self, names: tuple[str, ...], lock: threading.Lock) -> None:
        self.names = names
        self.ready: deque[Message] = deque()
        self.taken: dict[Message, None] = {}  # in the order they were taken
        self.delivered = 0
        self._lock = lock
        self._waiters: list[asyncio.Future[None]] = []

    def wants(self, event_name: str) -> bool:
        return any(matches(pattern, event_name) for pattern in self.names)

    def put(self, data: bytes) -> None:
        with self._lock:
            self.ready.append(Message(data))
            waiters = list(self._waiters)
        for waiter in waiters:
            _call_soon(waiter.get_loop(), _wake, waiter)

    async def take(self, count: int, block: float, visibility: float) -> list[Message]:
        """Up to `count` messages: first those left unsettled past `visibility` seconds,
        then new ones, waiting up to `block` seconds for one."""
        waiter = asyncio.get_running_loop().create_future()
        with self._lock:
            messages = self._take(count, visibility)
            if messages or block <= 0:
                return messages
            self._waiters.append(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, block)
        finally:
            with self._lock:
                self._waiters.remove(waiter)
                messages = self._take(count, visibility)
        return messages

    def _take(self, count: int, visibility: float) -> list[Message]:
        now = time.monotonic()
        messages = [m for m in self.taken if now - m.taken_at > visibility][:count]
        while self.ready and len(messages) < count:
            messages.append(self.ready.popleft())
        for message in messages:
            self.taken.pop(message, None)
            self.taken[message] = None
            message.deliveries += 1
            message.taken_at = now
        self.delivered += len(messages)
        return messages

    def touch(self, messages: Sequence[Message]) -> None:
        now = time.monotonic()
        with self._lock:
            for message in messages:
                message.taken_at = now

    def settle(self, messages: Sequence[Message]) -> None:
        with self._lock:
            for message in messages:
                self.taken.pop(message, None)

    @property
    def settled(self) -> bool:
        """Something was delivered, and nothing waits or is being worked on."""
        return bool(self.delivered) and not self.ready and not self.taken


class MemoryFeed(BroadcastFeed):
    """A bus's broadcast subscription on the broker."""

    def __init__(self, broker: MemoryBroker, names: frozenset[str]) -> None:
        self.broker = broker
        self.names = names
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def offer(self, event_name: str, message: bytes) -> None:
        if any(matches(pattern, event_name) for pattern in self.names):
            _call_soon(self.loop, self.queue.put_nowait, message)

    async def receive(self) -> bytes:
        return await self.queue.get()

    async def close(self) -> None:
        with self.broker.lock:
            self.broker.feeds.discard(self)


class MemoryBroker:
    """What a Redis or NATS server holds, for the transports of one process."""

    _brokers: ClassVar[weakref.WeakValueDictionary[str, MemoryBroker]] = (
        weakref.WeakValueDictionary()
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.groups: dict[str, Group] = {}
        self.feeds: set[MemoryFeed] = set()
        self.dead_letters: deque[DeadLetter] = deque()
        self._once: dict[str, float] = {}

    @classmethod
    def named(cls, name: str) -> MemoryBroker:
        """The process's broker of that name, made on first use."""
        with _brokers_lock:
            broker = cls._brokers.get(name)
            if broker is None:
                broker = cls._brokers[name] = cls(name)
            return broker

    def group(self, listener: str, names: tuple[str, ...]) -> Group:
        with self.lock:
            group = self.groups.get(listener)
            if group is None:
                group = self.groups[listener] = Group(names, self.lock)
            else:
                group.names = tuple(dict.fromkeys((*group.names, *names)))
            return group

    def subscribe(self, names: frozenset[str]) -> MemoryFeed:
        feed = MemoryFeed(self, names)
        with self.lock:
            self.feeds.add(feed)
        return feed

    def append(self, event_name: str, data: bytes) -> None:
        """Durable scope: one copy of the event for each group that wants it."""
        with self.lock:
            groups = [group for group in self.groups.values() if group.wants(event_name)]
        for group in groups:
            group.put(data)

    def broadcast(self, event_name: str, message: bytes) -> None:
        """Broadcast scope: one copy of the message for each subscribed bus."""
        with self.lock:
            feeds = list(self.feeds)
        for feed in feeds:
            feed.offer(event_name, message)

    def dead_letter(self, letter: DeadLetter, bound: int) -> None:
        with self.lock:
            self.dead_letters.append(letter)
            while len(self.dead_letters) > bound:
                self.dead_letters.popleft()

    def acquire_once(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        with self.lock:
            if self._once.get(key, 0.0) > now:
                return False
            self._once = {k: until for k, until in self._once.items() if until > now}
            self._once[key] = now + ttl
            return True


_brokers_lock = threading.Lock()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> None:
    """Run `callback` on `loop`: at once from that loop, else thread-safely (not at all
    when that loop is closed: nobody waits there any more)."""
    if loop is _running_loop():
        callback(*args)
    else:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(callback, *args)


class MemoryTransport(BrokerTransport):
    kind = "memory"
    title = "the in-memory broker"
    unreachable_hint = "an in-memory broker is always reachable"

    def __init__(
        self,
        name: str = "",
        *,
        batch_size: int = 100,
        block: float = 0.2,
        visibility_timeout: float = 30.0,
        max_dead_letters: int = 10_000,
        **options: Unpack[BrokerOptions],
    ) -> None:
        super().__init__(**options)
        self.broker = MemoryBroker.named(name)
        self.batch_size = batch_size
        self.block = block
        self.visibility_timeout = visibility_timeout
        self.max_dead_letters = max_dead_letters

    @property
    def address(self) -> str:
        return f"memory://{self.broker.name}"

    async def acquire_once(self, key: str, ttl: float) -> bool:
        return self.broker.acquire_once(key, ttl)

    async def _connect(self) -> None:
        """Nothing to reach; one turn of the loop instead of a server's round trip, so that
        what other buses already emitted reaches the broker before this bus subscribes (a
        new consumer group starts after it, as on Redis and NATS)."""
        await asyncio.sleep(0)

    async def _subscribe_durable(self, listener: Listener, names: tuple[str, ...]) -> None:
        group = self.broker.group(listener.name, names)
        self._spawn_consumer(MemoryConsumer(self, listener, group))

    async def _subscribe_broadcast(self, names: frozenset[str]) -> None:
        self._spawn_feed(self.broker.subscribe(names))

    async def _send(self, batch: list[Outgoing]) -> None:
        for event, data in batch:
            self.broker.append(event.name, data)
        for name, frame in self._frames(batch):
            self.broker.broadcast(name, frame)

    async def _disconnect(self) -> None:
        """Nothing to close: the broker outlives the transport, as a server would."""


class MemoryConsumer(DurableConsumer[Message]):
    """A bus's share of a durable listener's group."""

    def __init__(self, transport: MemoryTransport, listener: Listener, group: Group) -> None:
        self.transport = transport
        self.listener = listener
        self.group = group
        self.keep_alive_every = transport.visibility_timeout / 3

    async def fetch(self) -> list[Message]:
        transport = self.transport
        return await self.group.take(
            transport.batch_size, transport.block, transport.visibility_timeout
        )

    def received(self, message: Message) -> tuple[bytes, int]:
        return message.data, message.deliveries

    async def keep_alive(self, batch: Sequence[Message]) -> None:
        self.group.touch(batch)

    async def settle(self, batch: Sequence[Message], settlements: Sequence[Settlement]) -> None:
        for message, settlement in zip(batch, settlements, strict=True):
            if settlement.verdict is Verdict.DEAD:
                letter = DeadLetter(
                    data=message.data,
                    listener=self.listener.name,
                    deliveries=message.deliveries,
                    error=settlement.error,
                    failed_at=datetime.now(UTC).isoformat(),
                )
                self.transport.broker.dead_letter(letter, self.transport.max_dead_letters)
        self.group.settle(batch)
