"""The relay stops cleanly when the app shuts down in the middle of one of its passes."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from sqlalchemy import event

from ravyn import Ravyn
from ravyn.database import SqlDatabase

pytestmark = pytest.mark.timeout(90)


async def test_a_shutdown_during_a_relay_pass_frees_sqlites_write_lock(tmp_path):
    path = tmp_path / "app.db"
    db = SqlDatabase(f"sqlite+aiosqlite:///{path}", relay_interval=60)
    app = Ravyn(extensions={"db": db}, on_startup=[db.create_all])
    in_pass, go_on = threading.Event(), threading.Event()
    armed = True

    def hold() -> int:
        """Runs in the connection's thread, inside the relay's statement."""
        in_pass.set()
        go_on.wait(30)
        return 1

    @event.listens_for(db.engine.sync_engine, "connect")
    def add_hold(dbapi_connection, _record):
        dbapi_connection.create_function("hold", 0, hold)

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute", retval=True)
    def hold_the_relays_pass(connection, cursor, statement, parameters, *args):
        # The relay's pass, in its transaction (holding SQLite's write lock), is held in
        # its SELECT until the shutdown has begun stopping the relay: the ordering a
        # loaded machine produced now and then.
        nonlocal armed
        if armed and statement.startswith("SELECT ravyn_outbox.id") and "LIMIT ?" in statement:
            armed = False
            statement = statement.replace("LIMIT ?", "LIMIT hold() * ?")
        return statement, parameters

    started, shut_down, stopping = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def run_app() -> None:
        async with app.running():
            started.set()
            await shut_down.wait()

    app_task = asyncio.create_task(run_app())
    await asyncio.wait_for(started.wait(), 20)
    relay = db.relay
    assert relay is not None
    stop = relay.stop

    async def stop_and_tell() -> None:
        stopping.set()
        await stop()

    relay.stop = stop_and_tell  # type: ignore[method-assign]
    async with db.session():  # a pending row: the relay's SELECT has a row to return
        await app.events.emit("order_placed", {"order_id": 1})
    assert await asyncio.to_thread(in_pass.wait, 20)

    shut_down.set()
    await asyncio.wait_for(stopping.wait(), 20)
    go_on.set()

    # The pass under way ends, then the last one. (A relay cancelled here left its
    # connection in the transaction, a row half read: its last pass, and the next app's
    # writers, waited SQLITE_LOCK_TIMEOUT for the write lock, then "database is locked".)
    await asyncio.wait_for(app_task, 20)
    # ... and nothing holds SQLite's write lock: the next app's writers do not wait.
    writer = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
