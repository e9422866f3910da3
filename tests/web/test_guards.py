"""One rule at every level: a dependency that no parameter takes runs as a guard for every
handler under where it is declared (app, Include, nested Include, Gateway, handler,
WebSocket), before the request's parameters and body are read."""

from __future__ import annotations

import httpx
import pytest

from ravyn import Gateway, Include, Inject, Ravyn, Request
from ravyn.exceptions import ImproperlyConfigured, NotAuthorized
from ravyn.routing import get, post, websocket
from ravyn.testclient import TestClient
from ravyn.websockets import WebSocket, WebSocketDisconnect
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(30)

TOKEN = {"authorization": "Bearer letmein"}


def verify_token(request: Request) -> None:
    """The reference page's guard: refuse without the token, else note who called."""
    if request.headers.get("authorization") != TOKEN["authorization"]:
        raise NotAuthorized("Invalid token")
    request.state.user = "ada"


GUARD = {"auth": Inject(verify_token)}


@get("/report")
async def report() -> dict:  # takes nothing: only a guard can protect it
    return {"report": "secret"}


def assert_guarded(client: TestClient | httpx.Client, path: str) -> None:
    denied = client.get(path)
    assert (denied.status_code, denied.json()) == (401, {"detail": "Invalid token"})
    assert client.get(path, headers=TOKEN).json() == {"report": "secret"}


@pytest.mark.parametrize(
    ("app", "path"),
    [
        (Ravyn(routes=[report], dependencies=GUARD), "/report"),
        (Ravyn(routes=[Include("/admin", routes=[report], dependencies=GUARD)]), "/admin/report"),
        (
            Ravyn(
                routes=[
                    Include(
                        "/admin",
                        routes=[Include("/v1", routes=[report], dependencies=GUARD)],
                    )
                ]
            ),
            "/admin/v1/report",
        ),
        (Ravyn(routes=[Gateway("/admin", handler=report, dependencies=GUARD)]), "/admin/report"),
    ],
    ids=["app", "include", "nested-include", "gateway"],
)
def test_a_dependency_no_parameter_takes_guards_every_handler_under_it(app, path):
    assert_guarded(TestClient(app), path)


def test_a_handler_dependency_no_parameter_takes_is_a_guard():
    @get("/protected", dependencies=GUARD)
    async def protected(request: Request) -> dict:
        return {"report": request.state.user}

    client = TestClient(Ravyn(routes=[protected]))
    assert client.get("/protected").status_code == 401
    assert client.get("/protected", headers=TOKEN).json() == {"report": "ada"}


def test_an_include_guard_refuses_a_websocket_under_it():
    @websocket("/feed")
    async def feed(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {websocket.state.user}")

    client = TestClient(Ravyn(routes=[Include("/live", routes=[feed], dependencies=GUARD)]))
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/live/feed") as ws,
    ):
        ws.receive_text()
    assert (refused.value.code, refused.value.reason) == (1008, "Invalid token")
    with client.websocket_connect("/live/feed", headers=TOKEN) as ws:
        assert ws.receive_text() == "hello ada"


def test_guards_run_outermost_first_and_once_with_what_the_handler_takes():
    ran: list[str] = []

    def app_guard() -> None:
        ran.append("app")

    def settings() -> dict:
        ran.append("settings")
        return {"region": "eu"}

    def session(settings: dict) -> str:  # takes settings: settings is no guard of its own
        ran.append("session")
        return settings["region"]

    @get("/where", dependencies={"session": Inject(session)})
    async def where(session: str) -> str:
        return session

    app = Ravyn(
        routes=[Include("/api", routes=[where], dependencies={"check": Inject(app_guard)})],
        dependencies={"app": Inject(app_guard), "settings": Inject(settings)},
    )
    assert TestClient(app).get("/api/where").json() == "eu"
    # "app" and "check" share one Inject callable but are two declarations: both run
    assert ran == ["app", "app", "settings", "session"]


def test_a_guard_refuses_before_the_body_is_read():
    @post("/items", dependencies=GUARD)
    async def create(name: str) -> dict:
        return {"name": name}

    client = TestClient(Ravyn(routes=[create]))
    refused = client.post("/items", content=b"{not json", headers={"content-type": "text/plain"})
    assert refused.status_code == 401  # not 415 nor 400: who may not write is not told how
    assert client.post("/items", json={"name": "a"}, headers=TOKEN).json() == {"name": "a"}


def test_dependencies_on_an_include_of_an_asgi_app_are_refused():
    async def asgi_app(scope, receive, send) -> None:  # pragma: no cover - never served
        raise AssertionError

    with pytest.raises(ImproperlyConfigured, match="guard it inside that app"):
        Include("/events", app=asgi_app, dependencies=GUARD)


def test_include_guard_through_a_real_uvicorn_server():
    app = Ravyn(routes=[Include("/admin", routes=[report], dependencies=GUARD)])
    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        assert_guarded(client, "/admin/report")
