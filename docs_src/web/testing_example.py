from ravyn import Ravyn, observable, post
from ravyn.events import Registry, use_registry
from ravyn.events.testing import capture
from ravyn.testclient import TestClient


def build_app(welcomed: list[str]) -> Ravyn:
    with use_registry(Registry()):  # this test's listeners only

        @post("/register")
        @observable(send=["user_registered"])
        async def register(email: str) -> dict:
            return {"email": email}

        @observable(listen=["user_registered"])
        async def welcome(email: str) -> None:
            welcomed.append(email)

        return Ravyn(routes=[register])


def test_register_welcomes_the_user():
    welcomed: list[str] = []
    app = build_app(welcomed)
    with TestClient(app) as client, capture(app.events) as captured:
        response = client.post("/register", json={"email": "ada@example.com"})
        client.wait_idle()  # the listeners ran after the response: wait, never sleep
    assert response.status_code == 201
    captured.assert_emitted("user_registered", email="ada@example.com")
    assert [outcome.ok for outcome in captured.delivered("welcome")] == [True]
    assert welcomed == ["ada@example.com"]
