"""One app, run as many processes as you like: each event's listeners run where they should."""

import os

from ravyn import Ravyn, observable, post

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

welcome_emails: list[str] = []
live_updates: list[dict] = []


@post("/register")
@observable(send=["user_registered"])
async def register(email: str) -> dict:
    return {"email": email, "user_id": 42}


@observable(listen=["user_registered"])  # once per cluster: durable, at-least-once
async def send_welcome_email(email: str) -> None:
    welcome_emails.append(email)


@observable(listen=["user_registered"], broadcast=True)  # once per process, at-most-once
async def push_to_my_websockets(payload: dict) -> None:
    live_updates.append(payload)


# ?prefix=myapp: this app's streams are myapp:<event>; its workers run with --prefix myapp.
app = Ravyn(event_transport=f"{REDIS_URL}?prefix=myapp")
app.add_route(register)
