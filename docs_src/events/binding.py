import asyncio

import msgspec

from ravyn.events import Event, EventBus, observable


class Order(msgspec.Struct):
    order_id: int
    total: float


received: list[str] = []


@observable(listen=["order_created"])
async def count_orders():  # nothing
    received.append("counted")


@observable(listen=["order_created"])
async def audit(event: Event):  # the envelope, whatever the parameter's name
    received.append(f"audit {event.name} {event.id[:8]}")


@observable(listen=["order_created"])
async def invoice(payload: Order):  # the payload, converted to its annotation
    received.append(f"invoice #{payload.order_id}: {payload.total:.2f}")


@observable(listen=["order_created"])
async def ship(order_id: int, express: bool = False):  # payload fields by name
    received.append(f"ship #{order_id} express={express}")


@observable(listen=["order_created"])
def print_label(order_id: int):  # a sync listener runs in a worker thread
    received.append(f"label #{order_id}")


async def main() -> None:
    bus = EventBus()
    await bus.emit("order_created", {"order_id": 7, "total": 19.5})
    print("\n".join(sorted(received)))


if __name__ == "__main__":
    asyncio.run(main())
