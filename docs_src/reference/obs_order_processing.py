# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them: they record their calls.
# The listeners' out-of-scope variables are their parameters here, bound from the payload:
# the handler's return value carries what they need (marked "added"), and process_payment
# passes the order on with payment_success.
import msgspec

from ravyn import trigger_event

calls: list[tuple] = []


class Item(msgspec.Struct):
    product_id: int
    quantity: int
    price: float = 0.0


async def save_order(user_id: int, items: list) -> int:
    return 1001


def calculate_total(items: list) -> float:
    return sum(item.get("price", 0.0) * item["quantity"] for item in items)


async def charge_payment(payment_method: str, amount: float) -> bool:
    calls.append(("charge_payment", payment_method, amount))
    return payment_method != "declined-card"


async def send_email(user_id: int, template: str, order_id: int) -> None:
    calls.append(("send_email", user_id, template, order_id))


async def reduce_stock(product_id: int, quantity: int) -> None:
    calls.append(("reduce_stock", product_id, quantity))


async def send_warehouse_notification(order_id: int) -> None:
    calls.append(("send_warehouse_notification", order_id))


async def log_analytics(name: str, order_id: int, total: float) -> None:
    calls.append(("log_analytics", name, order_id, total))


from ravyn import post
from ravyn import observable


# Order endpoint - triggers multiple events
@post("/orders")
@observable(send=["order_created", "payment_required"])
async def create_order(user_id: int, items: list, payment_method: str) -> dict:
    # Create order in database
    order_id = await save_order(user_id, items)
    total_amount = calculate_total(items)

    return {
        "order_id": order_id,
        "total": total_amount,
        "status": "pending_payment",
        "user_id": user_id,  # added: the listeners below bind these by name
        "items": items,  # added
        "payment_method": payment_method,  # added
    }


# Listener: Process payment
@observable(listen=["payment_required"])
async def process_payment(order_id: int, items: list, payment_method: str, total: float):
    """Charge customer's payment method"""
    print("💳 Processing payment...")
    payment_success = await charge_payment(payment_method, total)

    if payment_success:
        # Trigger next event in the pipeline
        await trigger_event("payment_success", {"order_id": order_id, "items": items})


# Listener: Send order confirmation
@observable(listen=["order_created"])
async def send_order_confirmation(user_id: int, order_id: int):
    """Email customer with order details"""
    print("📧 Sending order confirmation email...")
    await send_email(user_id, template="order_confirmation", order_id=order_id)


# Listener: Update inventory
@observable(listen=["payment_success"])
async def update_inventory(items: list[Item]):
    """Reduce stock for purchased items"""
    print("📦 Updating inventory...")
    for item in items:
        await reduce_stock(item.product_id, item.quantity)


# Listener: Notify warehouse
@observable(listen=["payment_success"])
async def notify_warehouse(order_id: int):
    """Send fulfillment request to warehouse"""
    print("🏭 Notifying warehouse for fulfillment...")
    await send_warehouse_notification(order_id)


# Listener: Track analytics
@observable(listen=["order_created"])
async def track_order_analytics(order_id: int, total: float):
    """Log order for business intelligence"""
    print("📊 Tracking order analytics...")
    await log_analytics("order_created", order_id=order_id, total=total)
