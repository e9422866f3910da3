"""A process of the outbox crash test. ``setup URL`` creates the tables;
``commit-then-die URL FILE`` commits an order and its event, then SIGKILLs itself before its
relay can send; ``relay URL FILE`` runs an app whose relay sends what is pending and whose
listener appends each delivery to FILE, until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ravyn import Ravyn, observable, trigger_event
from ravyn.database import SqlDatabase

mode, url = sys.argv[1], sys.argv[2]
# Dying, it polls rarely: only the wake-up after its commit could send, and it dies first.
db = SqlDatabase(url, relay_interval=60.0 if mode == "commit-then-die" else 0.1)


class Order(db.Model):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    item: Mapped[str] = mapped_column(String(50))


@observable(listen=["order_placed"])
async def record_delivery(order_id: int) -> None:
    with open(sys.argv[3], "a") as deliveries:
        deliveries.write(f"{os.getpid()} {order_id}\n")


# OUTBOX_TRANSPORT (a Redis URL) carries the events between the processes; without it each
# relay feeds its own process's listeners.
app = Ravyn(extensions={"db": db}, event_transport=os.environ.get("OUTBOX_TRANSPORT"))


async def commit_then_die() -> None:
    async with app.running():
        async with db.session() as session:
            order = Order(item="book")
            session.add(order)
            await session.flush()
            await trigger_event("order_placed", {"order_id": order.id})
        # Committed; the relay was only woken: it would run at this task's next await.
        os.kill(os.getpid(), signal.SIGKILL)


async def relay() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with app.running():
        print("ready", flush=True)
        await stop.wait()


asyncio.run({"setup": db.create_all, "commit-then-die": commit_then_die, "relay": relay}[mode]())
