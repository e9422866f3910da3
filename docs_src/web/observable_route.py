from ravyn import Event, Ravyn, observable, post
from ravyn.exceptions import HTTPException

received: list[Event] = []


@post("/orders")
@observable(send=["order_placed"])  # listeners run after the response is sent
async def place_order(sku: str, quantity: int) -> dict:
    if quantity < 1:
        raise HTTPException(400, "quantity must be 1 or more")  # no event when it raises
    return {"sku": sku, "quantity": quantity}


@post("/payments")
@observable(send=["payment_received"], wait=True)  # the response waits for the listeners
async def pay(order_id: int, amount: float) -> dict:
    return {"order_id": order_id, "amount": amount}


@observable(listen=["order_placed", "payment_received"])
async def record(event: Event) -> None:
    received.append(event)


app = Ravyn(routes=[place_order, pay])
