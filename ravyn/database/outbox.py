"""The transactional outbox: events written with the data, sent after the commit.

Inside a managed session (``SqlDatabase.session()`` or the request dependency
``managed_session``) the bus gives emitted events to an ``OutboxSink``, which inserts them into
the ``ravyn_outbox`` table in the session's transaction. A rollback discards them with the
data. After a commit the ``OutboxRelay`` sends them with ``EventBus.dispatch`` (to the
transport, else to local listeners) and marks them published; later it prunes them.

A process that dies between the commit and the send loses nothing: the rows stay pending
until a relay (of any process sharing the database) takes them, on its next poll. Relays lock
the rows they send (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite),
so two relays never send the same row at once; a relay that dies after sending and before its
commit lets another send the row again: delivery is at least once, exactly once unless a
relay dies in that window. Per event name, a transaction's rows are sent in the order they
were emitted, after those of every transaction that committed before it began.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from ravyn.events.codec import Codec
from ravyn.events.envelope import Event

if TYPE_CHECKING:
    from ravyn.events.bus import EventBus

logger = structlog.get_logger("ravyn.database")

OUTBOX_TABLE = "ravyn_outbox"

codec = Codec("json")


def outbox_table(metadata: MetaData) -> Table:
    """The outbox table in ``metadata`` (so ``create_all`` and Alembic see it)."""
    return Table(
        OUTBOX_TABLE,
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("event_id", String(32), nullable=False),
        Column("name", String(255), nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Index(f"ix_{OUTBOX_TABLE}_published_at_id", "published_at", "id"),
    )


class OutboxSink:
    """Writes the events emitted in a session's context into that session's transaction."""

    __slots__ = ("session", "table", "taken", "open")

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self.session = session
        self.table = table
        self.taken = 0
        self.open = True

    async def take(self, events: Sequence[Event]) -> None:
        if not self.open:
            raise RuntimeError(
                f"{events[0].name!r} was emitted in the context of a database session that "
                "has ended: emit inside `async with db.session()`, or outside of it."
            )
        rows = [
            {
                "event_id": event.id,
                "name": event.name,
                "body": codec.encode(event),
                "created_at": event.emitted_at,
            }
            for event in events
        ]
        await self.session.execute(insert(self.table), rows)
        self.taken += len(rows)


class OutboxRelay:
    """Sends committed outbox rows through a bus, in order per event name, and prunes them.

    It runs a pass when woken (a session of this process committed events) and every
    ``interval`` seconds (rows of other processes, of a process that died before sending,
    of a pass that failed). A pass takes up to ``batch_size`` rows.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        table: Table,
        bus: EventBus,
        *,
        interval: float = 1.0,
        batch_size: int = 100,
        keep_published: float = 3600.0,
    ) -> None:
        self.engine = engine
        self.table = table
        self.bus = bus
        self.interval = interval
        self.batch_size = batch_size
        self.keep_published = keep_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failures = 0  # passes failed in a row

    def wake(self) -> None:
        """Run a pass now (a session just committed events)."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="ravyn-outbox-relay")

    async def stop(self) -> None:
        """Stop polling, after one last pass for what this process committed.

        The relay is asked to stop, never cancelled: a pass cancelled in one of its
        statements leaves its connection (invalidated by SQLAlchemy) holding the
        transaction, and on SQLite the write lock, so the next writers wait for it and
        fail with "database is locked". The pass under way ends first, then the last one."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await self._task
        self._task = None
        await self._safely(self.relay_once)

    async def _run(self) -> None:
        """Wait for a wake-up or the poll interval, then send what is pending, batch after
        batch, and now and then prune, until ``stop()`` asks it to end. Waiting first lets
        the app's startup code create the table (``db.create_all``) before the first pass."""
        prune_every = min(max(self.keep_published, self.interval), 60.0)
        loop = asyncio.get_running_loop()
        next_prune = loop.time() + prune_every
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            if self._stopping:
                return  # stop() runs the last pass
            while await self._safely(self.relay_once) == self.batch_size:
                if self._stopping:
                    return  # a full batch: more rows may wait, but stop() runs the last pass
            if loop.time() >= next_prune:
                await self._safely(self.prune)
                next_prune = loop.time() + prune_every

    async def _safely(self, work: Callable[[], Awaitable[int]]) -> int:
        """Run a pass or a prune. A failure (the database or the transport down) is retried
        at the next poll: a warning the first time, then debug lines until it recovers."""
        try:
            done = await work()
        except Exception as exc:
            self._failures += 1
            log = logger.warning if self._failures == 1 else logger.debug
            log(
                "outbox_relay_failed",
                error=repr(exc),
                failures=self._failures,
                retry_in=self.interval,
                hint="is the database reachable, and the outbox table created "
                "(ravyn db upgrade, or db.create_all())?",
            )
            return 0
        if self._failures:
            logger.info("outbox_relay_resumed", failures=self._failures)
            self._failures = 0
        return done

    async def relay_once(self) -> int:
        """One pass: lock up to ``batch_size`` pending rows, send them, mark them published.
        Returns how many it sent: fewer than it locked when another relay holds earlier rows
        of the same name (those wait for the next pass)."""
        table = self.table
        async with self.engine.begin() as connection:
            pending = select(table.c.id, table.c.name, table.c.body)
            pending = pending.where(table.c.published_at.is_(None)).order_by(table.c.id)
            pending = pending.limit(self.batch_size).with_for_update(skip_locked=True)
            rows = (await connection.execute(pending)).all()
            if not rows:
                return 0
            sendable = await self._in_order(connection, rows)
            if sendable:
                await self.bus.dispatch([codec.decode(row.body) for row in sendable])
                published = update(table).where(table.c.id.in_([row.id for row in sendable]))
                await connection.execute(published.values(published_at=datetime.now(UTC)))
        return len(sendable)

    async def _in_order(self, connection: AsyncConnection, rows: Sequence[Any]) -> list[Any]:
        """The locked rows that no earlier pending row of their name precedes: a row locked
        by another relay holds back the later rows of its name, so each name stays in order."""
        table = self.table
        mine = {row.id for row in rows}
        earlier = (
            select(table.c.id, table.c.name)
            .where(
                table.c.published_at.is_(None),
                table.c.name.in_({row.name for row in rows}),
                table.c.id <= rows[-1].id,
            )
            .order_by(table.c.id)
        )
        first_foreign: dict[str, int] = {}
        for row_id, name in await connection.execute(earlier):
            if row_id not in mine and name not in first_foreign:
                first_foreign[name] = row_id
        return [
            row for row in rows if row.name not in first_foreign or row.id < first_foreign[row.name]
        ]

    async def prune(self) -> int:
        """Delete rows published more than ``keep_published`` seconds ago; how many."""
        table = self.table
        cutoff = datetime.now(UTC) - timedelta(seconds=self.keep_published)
        async with self.engine.begin() as connection:
            result = await connection.execute(delete(table).where(table.c.published_at <= cutoff))
        return result.rowcount
