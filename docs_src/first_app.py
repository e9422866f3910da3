"""The README's first app: two routes and an observable on the in-memory bus.

Save it as ``app.py``, run it with ``ravyn run app:app`` and try:
``curl -X POST localhost:8000/register -H 'content-type: application/json'
-d '{"email": "ada@example.com", "password": "s3cret"}'``
"""

from ravyn import Event, Ravyn, get, observable, post

welcomed: list[str] = []
audit_log: list[str] = []


@get("/")
async def home() -> dict:
    return {"hello": "world"}


@post("/register")
@observable(send=["user_registered"])
async def register(email: str, password: str) -> dict:
    return {"registered": True, "email": email, "user_id": 42}


@observable(listen=["user_registered"])
async def send_welcome_email(email: str):  # payload fields bind by name
    welcomed.append(email)
    print(f"Welcome, {email}!")


@observable(listen=["user_registered"])
async def audit(event: Event):  # or take the whole envelope
    audit_log.append(f"{event.name} {event.id} {event.headers['correlation-id']}")
    print(event.name, event.id, event.headers["correlation-id"])


app = Ravyn()
app.add_route(home)
app.add_route(register)
