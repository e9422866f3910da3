"""``SqlDatabase``: an async SQLAlchemy engine for a ravyn app, its models' base, managed
sessions, and the outbox relay, opened and closed by the app's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

from ravyn.database.outbox import OutboxRelay, OutboxSink, outbox_table
from ravyn.events.context import emit_sink_context
from ravyn.extensions import Extension
from ravyn.routing.dependencies import Inject

if TYPE_CHECKING:
    from ravyn.app import Ravyn

DEFAULT_URL = "sqlite+aiosqlite:///./app.db"
SQLITE_LOCK_TIMEOUT = 30.0
"""Seconds a SQLite connection waits for the write lock before "database is locked"."""


class SqlDatabase(Extension):
    """One database: ``Ravyn(extensions={"db": db})`` runs its relay and disposes its engine
    with the app.

    - ``db.Model``: the declarative base of this database's models (its ``metadata`` also
      holds the outbox table, ``db.outbox_table``, so ``create_all`` and Alembic migrations
      include it);
    - ``db.managed_session``: the per-request dependency (``session: AsyncSession =
      db.managed_session``): committed before the response when the handler succeeded,
      rolled back when it raised;
    - ``async with db.session() as session``: the same outside a request (listeners, jobs,
      scripts);
    - ``url``: any SQLAlchemy async URL, ``sqlite+aiosqlite:///./app.db`` by default,
      ``postgresql+asyncpg://user:password@host/name`` for PostgreSQL;
    - ``outbox=True``: events emitted inside a managed session are written in its
      transaction and sent after the commit (see ``ravyn.database.outbox``); the relay polls
      every ``relay_interval`` seconds and keeps published rows ``keep_published`` seconds.
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        engine_options: Mapping[str, Any] | None = None,
        outbox: bool = True,
        relay_interval: float = 1.0,
        relay_batch_size: int = 100,
        keep_published: float = 3600.0,
    ) -> None:
        self.url = url
        self.engine_options = dict(engine_options or {})
        self.relay_interval = relay_interval
        self.relay_batch_size = relay_batch_size
        self.keep_published = keep_published
        self.Model: type[DeclarativeBase] = type(
            "Model",
            (DeclarativeBase,),
            {"metadata": MetaData(), "__doc__": "The declarative base of this database's models."},
        )
        self.outbox_table = outbox_table(self.Model.metadata) if outbox else None
        self.relay: OutboxRelay | None = None
        self._opened: tuple[AsyncEngine, async_sessionmaker[AsyncSession]] | None = None
        self.managed_session = Inject(self._request_session, before_response=True)

    # -- engine ----------------------------------------------------------------------

    @property
    def engine(self) -> AsyncEngine:
        """The engine, made on first use (it connects only when a session needs it)."""
        return self._open()[0]

    def _open(self) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
        if self._opened is None:
            # Errors (and so logs) never show statement parameters: users' data, payloads.
            options = {"hide_parameters": True, **self.engine_options}
            sqlite = make_url(self.url).get_backend_name() == "sqlite"
            if sqlite:  # writers queue for SQLite's one write lock: wait long rather than fail
                connect_args = {"timeout": SQLITE_LOCK_TIMEOUT, **options.get("connect_args", {})}
                options = {**options, "connect_args": connect_args}
            engine = create_async_engine(self.url, **options)
            if sqlite:
                _sqlite_transactions(engine)
            self._opened = (engine, async_sessionmaker(engine, expire_on_commit=False))
        return self._opened

    async def create_all(self) -> None:
        """Create the models' tables and the outbox table where missing (tests, first runs;
        use migrations, ``ravyn db``, for a database that lives on)."""
        async with self.engine.begin() as connection:
            await connection.run_sync(self.Model.metadata.create_all)

    async def dispose(self) -> None:
        """Close the engine's connections (the app does it at shutdown)."""
        if self._opened is not None:
            await self._opened[0].dispose()

    # -- sessions --------------------------------------------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction: committed when the block ends, rolled back when it
        raises. Events emitted inside go to the outbox (with ``outbox=True``)."""
        async with self._open()[1]() as session:
            if self.outbox_table is None:
                async with session.begin():
                    yield session
                return
            sink = OutboxSink(session, self.outbox_table)
            try:
                async with session.begin():
                    with emit_sink_context(sink):
                        yield session
            finally:
                sink.open = False
        if sink.taken and self.relay is not None:
            self.relay.wake()

    async def _request_session(self) -> AsyncIterator[AsyncSession]:
        async with self.session() as session:
            yield session

    # -- the app's lifespan ----------------------------------------------------------

    def extend(self, app: Ravyn, **kwargs: Any) -> None:
        app.add_lifespan(self.lifespan)

    @asynccontextmanager
    async def lifespan(self, app: Ravyn) -> AsyncIterator[None]:
        """While the app runs: the outbox relay (on the app's bus); at the end, the engine
        is disposed after a last relay pass."""
        if self.outbox_table is not None:
            self.relay = OutboxRelay(
                self.engine,
                self.outbox_table,
                app.events,
                interval=self.relay_interval,
                batch_size=self.relay_batch_size,
                keep_published=self.keep_published,
            )
            await self.relay.start()
        try:
            yield
        finally:
            if self.relay is not None:
                await self.relay.stop()
                self.relay = None
            await self.dispose()


def _sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, begin transactions, as SQLAlchemy's SQLite
    docs advise (reads are then inside the transaction too), and begin them ``IMMEDIATE``:
    each takes the write lock first, so two transactions (two outbox relays) never read the
    same pending rows, and none fails with "database is locked" trying to upgrade a read
    lock that another writer blocks; it waits for the lock instead."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
