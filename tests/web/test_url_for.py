"""``app.url_for`` and ``request.url_for``: paths built from route names."""

import msgspec
import pytest
from lilya.routing import NoMatchFound

from ravyn import Controller, Include, Ravyn, Request, get
from ravyn.responses import RedirectResponse
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)


@get("/items/{item_id:int}")
async def get_item(item_id: int) -> dict:
    return {"item_id": item_id}


@get("/go/{item_id}")
async def go(request: Request, item_id: int) -> RedirectResponse:
    return RedirectResponse(request.url_for("get_item", item_id=item_id), status_code=303)


class UserApi(Controller):
    path = "/users"

    @get("/{user_id}")
    async def get_user(self, request: Request, user_id: int) -> dict:
        return {"self": request.url_for("api:UserApi.get_user", user_id=user_id)}


def make_app() -> Ravyn:
    return Ravyn(routes=[get_item, go, Include("/api", routes=[UserApi], name="api")])


def test_app_url_for_functions_controller_methods_and_named_includes():
    app = make_app()
    assert app.url_for("get_item", item_id=7) == "/items/7"
    assert app.url_for("api:UserApi.get_user", user_id=7) == "/api/users/7"
    assert type(app.url_for("get_item", item_id=7)) is str


def test_request_url_for_inside_handlers_and_in_a_redirect():
    client = TestClient(make_app())
    assert client.get("/api/users/3").json() == {"self": "/api/users/3"}
    redirected = client.get("/go/5", follow_redirects=False)
    assert (redirected.status_code, redirected.headers["location"]) == (303, "/items/5")
    assert client.get("/go/5", follow_redirects=True).json() == {"item_id": 5}


def test_an_unknown_name_or_wrong_parameters_say_how_to_find_the_names():
    app = make_app()
    with pytest.raises(NoMatchFound, match="No route named 'nope'.*ravyn routes module:app"):
        app.url_for("nope")
    with pytest.raises(NoMatchFound, match=r"path parameters \(wrong\)"):
        app.url_for("get_item", wrong=1)
    with pytest.raises(NoMatchFound, match=r"path parameters \(none\)"):
        app.url_for("get_item")


async def test_request_url_for_puts_the_root_path_of_a_proxy_first():
    app = make_app()
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/shop/api/users/9",
        "raw_path": b"/shop/api/users/9",
        "root_path": "/shop",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 5000),
        "server": ("example.com", 80),
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert msgspec.json.decode(sent[1]["body"]) == {"self": "/shop/api/users/9"}
