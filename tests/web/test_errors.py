import pytest
from structlog.testing import capture_logs

from ravyn.app import Ravyn
from ravyn.exceptions import HTTPException, NotAuthorized, NotFound, PermissionDenied
from ravyn.requests import Request
from ravyn.responses import JSONResponse
from ravyn.routing import get
from ravyn.testclient import TestClient

pytestmark = pytest.mark.timeout(30)


class Conflict(Exception):
    pass


@get("/unauthorized")
async def unauthorized() -> None:
    raise NotAuthorized("Invalid token")


@get("/forbidden")
async def forbidden() -> None:
    raise PermissionDenied()


@get("/missing")
async def missing() -> None:
    raise NotFound("No such user")


@get("/teapot")
async def teapot() -> None:
    raise HTTPException(418, {"reason": "short and stout"}, headers={"x-tea": "earl grey"})


@get("/conflict")
async def conflict() -> None:
    raise Conflict("taken")


@get("/crash")
async def crash() -> None:
    raise ValueError("secret internals")


def conflict_handler(request: Request, exc: Conflict) -> JSONResponse:
    return JSONResponse({"detail": f"conflict: {exc}"}, status_code=409)


routes = [unauthorized, forbidden, missing, teapot, conflict, crash]


def test_http_exceptions_keep_their_message():
    client = TestClient(Ravyn(routes=routes))
    assert client.get("/unauthorized").status_code == 401
    assert client.get("/unauthorized").json() == {"detail": "Invalid token"}
    assert client.get("/forbidden").json() == {"detail": "Forbidden"}
    assert client.get("/missing").json() == {"detail": "No such user"}
    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.headers["x-tea"]) == (418, "earl grey")
    assert teapot.json() == {"detail": {"reason": "short and stout"}}


def test_unknown_path_and_wrong_method_are_json_errors():
    client = TestClient(Ravyn(routes=routes))
    assert client.get("/nowhere").json() == {"detail": "Not Found"}
    wrong = client.post("/missing")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


def test_exception_handlers_for_any_class_and_status():
    app = Ravyn(
        routes=routes,
        exception_handlers={
            Conflict: conflict_handler,
            404: lambda request, exc: JSONResponse({"gone": request.url.path}, status_code=404),
        },
    )
    client = TestClient(app)
    assert client.get("/conflict").json() == {"detail": "conflict: taken"}
    assert client.get("/missing").json() == {"gone": "/missing"}


def test_unhandled_exception_is_a_generic_500_logged_with_its_traceback():
    client = TestClient(Ravyn(routes=routes))
    with capture_logs() as logs:
        response = client.get("/crash")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert "secret" not in response.text
    [error] = [log for log in logs if log["event"] == "unhandled_exception"]
    assert error["log_level"] == "error"
    assert error["path"] == "/crash"
    assert error["exc_info"][0] is ValueError


def test_debug_shows_the_error_and_traceback():
    response = TestClient(Ravyn(routes=routes, debug=True)).get("/crash")
    detail = response.json()["detail"]
    assert detail["error"] == "ValueError: secret internals"
    assert any("raise ValueError" in line for line in detail["traceback"])
