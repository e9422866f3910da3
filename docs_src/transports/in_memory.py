"""Test a clustered app in one process: two instances of it on one in-memory broker."""

import time

from ravyn import Ravyn, observable, post
from ravyn.testclient import TestClient

welcome_emails: list[str] = []
live_updates: list[dict] = []


@post("/register")
@observable(send=["user_registered"])
async def register(email: str) -> dict:
    return {"email": email, "user_id": 42}


@observable(listen=["user_registered"])  # once per cluster
async def send_welcome_email(email: str) -> None:
    welcome_emails.append(email)


@observable(listen=["user_registered"], broadcast=True)  # once per process
async def push_to_my_websockets(payload: dict) -> None:
    live_updates.append(payload)


def make_app() -> Ravyn:
    app = Ravyn(event_transport="memory://shop")  # what a second process would run too
    app.add_route(register)
    return app


def test_each_listener_runs_where_it_should() -> None:
    with TestClient(make_app()) as first, TestClient(make_app()):
        first.post("/register", json={"email": "ada@example.com"})
        deadline = time.monotonic() + 5
        while len(live_updates) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert welcome_emails == ["ada@example.com"]  # one of the two processes ran it
    assert len(live_updates) == 2  # each process ran it
