import msgspec

from ravyn import Event, Ravyn, observable, post


class OrderPlaced(msgspec.Struct):
    order_id: int
    email: str
    total: float


@post("/orders")
@observable(send=["order.placed"])
async def place_order(email: str, total: float) -> OrderPlaced:
    return OrderPlaced(order_id=7, email=email, total=total)


@observable(listen=["order.placed"])
async def send_receipt(email: str, total: float) -> None:  # once per cluster
    print(f"receipt for {email}: {total}")


@observable(listen=["order.*"], broadcast=True)
async def refresh_dashboards(event: Event) -> None:  # in every process
    print("dashboard:", event.name)


app = Ravyn(routes=[place_order], title="Orders", version="2.0.0")
