from ravyn import Event, Ravyn, observable, post, trigger_event

done: list[str] = []


@post("/register")
@observable(send=["user_registered"])
async def register(email: str, password: str) -> dict:
    return {"registered": True, "email": email, "user_id": 42}


@observable(listen=["user_registered"])
async def send_welcome_email():  # no parameters
    done.append("welcome email")


@observable(listen=["user_registered"])
async def assign_default_role(user_id: int):  # a field of the payload, by name
    done.append(f"role for user {user_id}")


@post("/orders")
@observable(send=["payment_required"])
async def place_order(order_id: int) -> dict:
    return {"order_id": order_id}


@observable(listen=["payment_required"])
async def process_payment(event: Event):  # the whole envelope
    await trigger_event("payment_success", {"order_id": event.payload["order_id"]})


app = Ravyn(routes=[register, place_order])
