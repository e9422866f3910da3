import msgspec

from ravyn import Ravyn, observable, post, trigger_event
from ravyn.contrib.schedulers.asyncz import scheduler


class Money(msgspec.Struct):
    amount: int
    currency: str


@post("/refunds")
async def refund(order_id: int, amount: int) -> dict:
    # trigger_event declares no payload type
    await trigger_event(
        "refund.issued", {"order_id": order_id, "money": {"amount": amount, "currency": "EUR"}}
    )
    return {"refunded": order_id}


@scheduler(name="nightly_totals", cron="0 2 * * *")
@observable(send=["totals.ready"])
async def nightly_totals():  # no return annotation
    return {"day": "2026-01-31", "orders": 12}


@observable(listen=["refund.issued"])
async def credit_card(order_id: int, money: Money) -> None:
    print(f"refund {money.amount} {money.currency} on order {order_id}")


@observable(listen=["refund.issued"])
async def notify(order_id: int, reason: str = "requested") -> None:
    print(f"order {order_id}: refunded ({reason})")


@observable(listen=["totals.ready"])
async def publish_totals(day: str, orders: int) -> None:
    print(f"{day}: {orders} orders")


app = Ravyn(routes=[refund], title="Refunds", version="1.0.0")
