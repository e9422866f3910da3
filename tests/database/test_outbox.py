"""The transactional outbox: events leave with the data's commit, never without it."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog.testing
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ravyn import HTTPException, Ravyn, observable, post, trigger_event
from ravyn.database import OutboxRelay, SqlDatabase
from ravyn.events import Event, EventBus, Listener, Registry, use_registry

pytestmark = pytest.mark.timeout(90)


async def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> None:
    """Wait until ``condition()`` (or what it returns, awaited) holds: the relay runs in
    the background, and marks rows published in its own transaction after sending them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        holds = condition()
        if inspect.isawaitable(holds):
            holds = await holds
        if holds:
            return
        assert asyncio.get_running_loop().time() < deadline, f"still false: {condition}"
        await asyncio.sleep(0.01)


def shop(url: str, **options) -> tuple[Ravyn, SqlDatabase, list]:
    db = SqlDatabase(url, **options)
    received: list[tuple[int, str]] = []

    class Order(db.Model):
        __tablename__ = "orders"
        id: Mapped[int] = mapped_column(primary_key=True)
        item: Mapped[str] = mapped_column(String(50))

    @post("/orders")
    @observable(send=["order_placed"])
    async def place(item: str, session: AsyncSession = db.managed_session) -> dict:
        order = Order(item=item)
        session.add(order)
        await session.flush()
        if item == "refused":
            raise HTTPException(409, "out of stock")
        return {"order_id": order.id, "item": item}

    @observable(listen=["order_placed"])
    async def on_placed(order_id: int, item: str) -> None:
        received.append((order_id, item))

    app = Ravyn(routes=[place], extensions={"db": db}, on_startup=[db.create_all])
    app.state.order_model = Order
    return app, db, received


async def outbox_rows(db: SqlDatabase) -> list[tuple[str, bool]]:
    """(event name, published?) of every outbox row, oldest first."""
    table = db.outbox_table
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(table.c.name, table.c.published_at.is_not(None)).order_by(table.c.id)
        )
        return [tuple(row) for row in rows]


async def outbox_event_ids(db: SqlDatabase) -> list[str]:
    async with db.engine.connect() as connection:
        return list(await connection.scalars(select(db.outbox_table.c.event_id)))


_clusters = itertools.count()


def outbox_becomes(db: SqlDatabase, expected: list[tuple[str, bool]]) -> Callable[[], Any]:
    async def check() -> bool:
        return await outbox_rows(db) == expected

    return check


def client(app: Ravyn) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


async def test_a_route_event_reaches_its_listener_after_the_commit(database_url):
    app, db, received = shop(database_url)
    async with app.running(), client(app) as http:
        response = await http.post("/orders", json={"item": "book"})
        assert response.status_code == 201
        await wait_for(lambda: received == [(1, "book")])
        await wait_for(outbox_becomes(db, [("order_placed", True)]))


async def test_a_rollback_publishes_nothing(database_url):
    app, db, received = shop(database_url, relay_interval=0.05)
    async with app.running(), client(app) as http:
        refused = await http.post("/orders", json={"item": "refused"})
        assert refused.status_code == 409
        accepted = await http.post("/orders", json={"item": "pen"})
        assert accepted.status_code == 201

        # the only row: the refused order's event was never written
        await wait_for(outbox_becomes(db, [("order_placed", True)]))
        assert received == [(accepted.json()["order_id"], "pen")]
        async with db.session() as session:
            orders = await session.scalar(select(func.count()).select_from(app.state.order_model))
        assert orders == 1


async def test_events_of_a_session_block_wait_for_a_relay(database_url):
    """trigger_event in ``db.session()`` outside an app: the row waits, a relay sends it."""
    db = SqlDatabase(database_url)
    await db.create_all()
    seen = []
    registry = Registry()
    with use_registry(registry):

        @observable(listen=["stock_counted"])
        async def on_counted(count: int) -> None:
            seen.append(count)

    try:
        async with db.session():
            event = await trigger_event("stock_counted", {"count": 3})
        assert seen == []
        assert await outbox_rows(db) == [("stock_counted", False)]
        relay = OutboxRelay(db.engine, db.outbox_table, EventBus(registry))
        assert await relay.relay_once() == 1
        assert seen == [3]
        assert await relay.relay_once() == 0
        assert await outbox_rows(db) == [("stock_counted", True)]
        relay.keep_published = 0
        assert await relay.prune() == 1
        assert await outbox_rows(db) == []
        assert event.headers["correlation-id"] == event.id
    finally:
        await db.dispose()


async def test_an_emit_after_the_session_ended_is_refused(database_url):
    db = SqlDatabase(database_url)
    await db.create_all()
    try:
        leaked = []
        async with db.session():
            leaked.append(asyncio.get_running_loop().create_future())

            async def later() -> None:
                await leaked[0]
                await trigger_event("too_late")

            task = asyncio.create_task(later())
        leaked[0].set_result(None)
        with pytest.raises(RuntimeError, match="database session that has ended"):
            await task
    finally:
        await db.dispose()


async def fill_outbox(db: SqlDatabase, names: tuple[str, ...], per_name: int) -> None:
    """``per_name`` events of each name, interleaved, a few per transaction."""
    for start in range(0, per_name, 5):
        async with db.session():
            for seq in range(start, min(start + 5, per_name)):
                for name in names:
                    await trigger_event(name, {"seq": seq})


async def test_two_relays_racing_send_each_event_once_in_order_per_name(database_url):
    names = ("order_placed", "order_paid", "order_shipped")
    per_name = 40
    writer = SqlDatabase(database_url)
    await writer.create_all()
    await fill_outbox(writer, names, per_name)
    log: list[tuple[str, str, int]] = []  # (relay, event name, seq) in the order sent
    relays = []
    for relay_name in ("left", "right"):
        registry = Registry()
        with use_registry(registry):

            @observable(listen=["order_*"])
            async def record(event: Event, seq: int, relay_name: str = relay_name) -> None:
                log.append((relay_name, event.name, seq))

        database = SqlDatabase(database_url)  # an engine (connections) of its own
        relays.append(
            (
                database,
                OutboxRelay(
                    database.engine, database.outbox_table, EventBus(registry), batch_size=7
                ),
            )
        )

    async def drain(relay: OutboxRelay) -> None:
        while not all(published for _, published in await outbox_rows(writer)):
            await relay.relay_once()

    try:
        await asyncio.gather(*(drain(relay) for _, relay in relays))
        assert len(log) == len(names) * per_name  # none lost, none twice
        for name in names:
            assert [seq for _, sent, seq in log if sent == name] == list(range(per_name))
    finally:
        for database, _ in relays:
            await database.dispose()
        await writer.dispose()


async def test_a_row_another_relay_holds_holds_back_the_later_rows_of_its_name(postgres_url):
    """PostgreSQL: while a relay holds the first ``order_paid`` row (locked, not yet sent),
    another relay sends the other names and keeps the later ``order_paid`` rows back."""
    db = SqlDatabase(postgres_url)
    await db.create_all()
    await fill_outbox(db, ("order_paid", "order_placed"), 3)
    sent: list[tuple[str, int]] = []
    registry = Registry()
    with use_registry(registry):

        @observable(listen=["order_*"])
        async def record(event: Event, seq: int) -> None:
            sent.append((event.name, seq))

    relay = OutboxRelay(db.engine, db.outbox_table, EventBus(registry))
    table = db.outbox_table
    try:
        async with db.engine.connect() as other_relay, other_relay.begin():
            first_paid = select(table.c.id).where(table.c.name == "order_paid")
            await other_relay.execute(first_paid.order_by(table.c.id).limit(1).with_for_update())
            assert await relay.relay_once() == 3
            assert sent == [("order_placed", 0), ("order_placed", 1), ("order_placed", 2)]
        assert await relay.relay_once() == 3
        assert sent[3:] == [("order_paid", 0), ("order_paid", 1), ("order_paid", 2)]
    finally:
        await db.dispose()


@pytest.mark.parametrize("transport", ["memory", "redis"])
async def test_with_a_transport_a_cluster_of_relays_delivers_each_event_once(
    database_url, transport, request
):
    """Two processes' apps share the database and the transport: both relays send, the
    durable listener (one consumer group across the cluster) runs once per event."""
    prefix = f"outbox{next(_clusters)}"
    if transport == "redis":
        url = f"{request.getfixturevalue('redis_url')}?prefix={prefix}"
    else:
        url = f"memory://{prefix}"
    writer = SqlDatabase(database_url)
    await writer.create_all()
    delivered: list[str] = []

    async def on_placed(event: Event) -> None:
        delivered.append(event.id)

    apps = []
    for _ in range(2):
        registry = Registry()
        registry.add_listener(Listener(on_placed, ("order_placed",)))
        with use_registry(registry):
            database = SqlDatabase(database_url, relay_interval=0.05, relay_batch_size=4)
            apps.append(Ravyn(extensions={"db": database}, event_transport=url))
    try:
        async with apps[0].running(), apps[1].running():
            await fill_outbox(writer, ("order_placed",), 30)
            written = set(await outbox_event_ids(writer))
            await wait_for(lambda: set(delivered) == written)
            await wait_for(outbox_becomes(writer, [("order_placed", True)] * 30))
            for app in apps:
                await app.events.idle()
        assert sorted(delivered) == sorted(written)  # each once
    finally:
        await writer.dispose()


async def test_a_failing_relay_warns_once_then_says_when_it_resumed(database_url, debug_logs):
    """No outbox table yet: the relay's passes fail, one warning (with the fix) is logged,
    the next failures at debug; once the table exists, it says so and goes on."""
    db = SqlDatabase(database_url)
    relay = OutboxRelay(db.engine, db.outbox_table, EventBus(Registry()), interval=0.01)

    def failures(logs: list[dict]) -> list[str]:
        return [line["log_level"] for line in logs if line["event"] == "outbox_relay_failed"]

    try:
        with structlog.testing.capture_logs() as logs:
            await relay.start()
            await wait_for(lambda: len(failures(logs)) >= 3)
            await db.create_all()
            await wait_for(lambda: any(line["event"] == "outbox_relay_resumed" for line in logs))
            await relay.stop()
        assert failures(logs)[0] == "warning"
        assert set(failures(logs)[1:]) == {"debug"}
        [warning] = [line for line in logs if line["log_level"] == "warning"]
        assert "ravyn db upgrade" in warning["hint"]
    finally:
        await db.dispose()
