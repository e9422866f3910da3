from ravyn import Ravyn, post
from ravyn.events import Registry, use_registry
from ravyn.testclient import TestClient
from ravyn.utils.decorators import observable


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
    with TestClient(app) as client:
        response = client.post("/register", json={"email": "ada@example.com"})
        with client.portal() as portal:
            portal.call(app.events.idle)  # the listeners ran after the response
    assert response.status_code == 201
    assert welcomed == ["ada@example.com"]
