"""``login_required`` / ``role_required`` wherever a guard goes, and ``request.user``."""

import pytest

from ravyn import Controller, Include, Ravyn, Request, WebSocket, get, websocket
from ravyn.auth import Authentication
from ravyn.exceptions import ImproperlyConfigured
from ravyn.testclient import TestClient
from ravyn.websockets import WebSocketDisconnect

pytestmark = pytest.mark.timeout(30)

SECRET = "a-test-secret-that-is-long-enough-0123456789"
USERS = {"ada": {"name": "ada", "roles": ["admin"]}, "bob": {"name": "bob", "roles": []}}


class Auth(Authentication):
    login_required_message = "Who are you?"
    role_required_message = "Not with your roles."

    def __init__(self) -> None:
        super().__init__(secret_key=SECRET)
        self.loads = 0

    async def user_loader(self, request):
        self.loads += 1
        return USERS.get(request.headers.get("x-user", ""))


ADA, BOB = {"x-user": "ada"}, {"x-user": "bob"}


def test_on_functions_under_the_route_decorator_and_above_it():
    auth = Auth()

    @get("/me")
    @auth.login_required
    async def me(request: Request) -> dict:
        return {"user": request.user["name"]}

    @auth.role_required("admin")
    @get("/admin")
    async def admin(request: Request) -> str:
        return request.user["name"]

    @get("/open")
    async def open_(request: Request) -> dict:
        return {"user": request.user}

    client = TestClient(Ravyn(routes=[me, admin, open_]))
    anonymous = client.get("/me")
    assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "Who are you?"})
    assert client.get("/me", headers=BOB).json() == {"user": "bob"}
    assert client.get("/admin").status_code == 401  # role_required loads the user itself
    forbidden = client.get("/admin", headers=BOB)
    assert (forbidden.status_code, forbidden.json()) == (403, {"detail": "Not with your roles."})
    assert client.get("/admin", headers=ADA).json() == "ada"
    assert client.get("/open", headers=ADA).json() == {"user": None}  # no guard, no user


def test_both_guards_load_the_user_once_per_request():
    auth = Auth()

    @get("/both")
    @auth.login_required
    @auth.role_required("admin")
    async def both(request: Request) -> str:
        return request.user["name"]

    client = TestClient(Ravyn(routes=[both]))
    assert client.get("/both", headers=ADA).json() == "ada"
    assert auth.loads == 1


def test_on_a_controller_and_its_methods():
    auth = Auth()

    @auth.login_required
    class Reports(Controller):
        path = "/reports"

        @get("/")
        async def mine(self, request: Request) -> str:
            return f"reports of {request.user['name']}"

        @get("/all")
        @auth.role_required("admin")
        async def every(self) -> str:
            return "all reports"

    client = TestClient(Ravyn(routes=[Reports]))
    assert client.get("/reports").status_code == 401
    assert client.get("/reports", headers=BOB).json() == "reports of bob"
    assert client.get("/reports/all", headers=BOB).status_code == 403
    assert client.get("/reports/all", headers=ADA).json() == "all reports"


def test_on_an_include_and_on_the_app():
    auth = Auth()

    @get("/stats")
    async def stats() -> dict:
        return {"users": 2}

    @get("/whoami")
    async def whoami(user: dict) -> str:  # the guard's value, by the name it is declared under
        return user["name"]

    admin = Include("/admin", routes=[stats], dependencies={"admin": auth.role_required("admin")})
    client = TestClient(Ravyn(routes=[admin]))
    assert client.get("/admin/stats").status_code == 401
    assert client.get("/admin/stats", headers=BOB).status_code == 403
    assert client.get("/admin/stats", headers=ADA).json() == {"users": 2}

    app = Ravyn(routes=[whoami], dependencies={"user": auth.login_required})
    client = TestClient(app)
    assert client.get("/whoami").status_code == 401
    assert client.get("/whoami", headers=BOB).json() == "bob"


def test_a_parameter_defaulting_to_the_guard_receives_the_user():
    auth = Auth()

    @get("/profile")
    async def profile(user: dict = auth.login_required) -> dict:
        return {"name": user["name"]}

    client = TestClient(Ravyn(routes=[profile]))
    assert client.get("/profile").status_code == 401
    assert client.get("/profile", headers=ADA).json() == {"name": "ada"}


def test_on_a_websocket_route_a_refusal_closes_with_1008():
    auth = Auth()

    @websocket("/live")
    @auth.role_required("admin")
    async def live(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(f"hello {websocket.user['name']}")
        await websocket.close()

    client = TestClient(Ravyn(routes=[live]))
    with client.websocket_connect("/live", headers=ADA) as socket:
        assert socket.receive_text() == "hello ada"
    for headers, reason in ((BOB, "Not with your roles."), ({}, "Who are you?")):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/live", headers=headers),
        ):
            pass
        assert (refused.value.code, refused.value.reason) == (1008, reason)


def test_role_check_can_be_replaced_and_mistakes_are_named():
    class TeamAuth(Auth):
        async def role_check(self, user, roles) -> bool:
            return user["name"] in roles  # roles here are user names

    auth = TeamAuth()

    @get("/bob-only")
    @auth.role_required("bob")
    async def bob_only() -> str:
        return "hi bob"

    client = TestClient(Ravyn(routes=[bob_only]))
    assert client.get("/bob-only", headers=BOB).json() == "hi bob"
    assert client.get("/bob-only", headers=ADA).status_code == 403
    with pytest.raises(ImproperlyConfigured, match="at least one role"):
        auth.role_required()

    class Forgetful(Authentication):
        pass

    forgetful = Forgetful(secret_key=SECRET)

    @get("/x")
    @forgetful.login_required
    async def x() -> str:
        return "x"

    response = TestClient(Ravyn(routes=[x], debug=True)).get("/x")
    assert response.status_code == 500
    assert "must implement async def user_loader" in response.json()["detail"]["error"]
