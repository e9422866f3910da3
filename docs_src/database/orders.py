"""Orders in a database; their events leave with the commit (the transactional outbox)."""

import os

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from ravyn import Ravyn, get, observable, post
from ravyn.database import SqlDatabase, paginate

db = SqlDatabase(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///./orders.db"))


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[str] = mapped_column(String(100))


class Confirmation(db.Model):
    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))


@post("/orders")
@observable(send=["order_placed"])
async def place_order(item: str, session: AsyncSession = db.managed_session) -> dict:
    order = Order(item=item)
    session.add(order)
    await session.flush()  # gives the order its id
    return {"order_id": order.id, "item": item}  # order_placed goes out after the commit


@get("/orders")
async def list_orders(
    page: int = 1, per_page: int = 20, session: AsyncSession = db.managed_session
) -> dict:
    orders = await paginate(session, select(Order).order_by(Order.id), page=page, per_page=per_page)
    return {
        "items": [{"order_id": order.id, "item": order.item} for order in orders.items],
        "page": orders.page,
        "per_page": orders.per_page,
        "total": orders.total,
    }


@observable(listen=["order_placed"])
async def confirm(order_id: int) -> None:
    async with db.session() as session:  # a listener opens its own session
        session.add(Confirmation(order_id=order_id))


app = Ravyn(
    routes=[place_order, list_orders],
    extensions={"db": db},
    on_startup=[db.create_all],  # or migrations: ravyn db upgrade
)
