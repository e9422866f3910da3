# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins: the listeners' bodies are `...` in the issue; these record that they ran.
ran: list[tuple] = []

from ravyn import Event  # the sample annotates with Event without importing it

from ravyn import Ravyn, post, trigger_event
from ravyn import observable


@post("/register")
@observable(send=["user_registered"])
async def register(email: str, password: str) -> dict:
    return {"registered": True, "email": email, "user_id": 42}


@observable(listen=["user_registered"])
async def send_welcome_email():  # no parameters: as in the docs
    ran.append(("send_welcome_email",))


@observable(listen=["user_registered"])
async def assign_default_role(user_id: int):  # or bind the payload's fields by name
    ran.append(("assign_default_role", user_id))


@observable(listen=["payment_required"])
async def process_payment(event: Event):  # or the whole Event envelope
    await trigger_event("payment_success", {"order_id": event.payload["order_id"]})


@observable(listen=["payment_success"])
async def record_payment(order_id: int):  # added: shows that the chain arrives
    ran.append(("payment_success", order_id))


app = Ravyn()
app.add_route(register)
