import httpx
import pytest
from lilya.middleware import DefineMiddleware
from lilya.middleware.cors import CORSMiddleware
from structlog.testing import capture_logs

from ravyn.app import Ravyn
from ravyn.exceptions import ImproperlyConfigured
from ravyn.middleware.definitions import normalize_middleware
from ravyn.responses import PlainText
from ravyn.routing import get
from ravyn.testclient import TestClient
from tests.web.helpers import serve

pytestmark = pytest.mark.timeout(30)


class TagMiddleware:
    def __init__(self, app, tag: str = "default") -> None:
        self.app = app
        self.tag = tag.encode()

    async def __call__(self, scope, receive, send):
        async def tagged(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-tag", self.tag)]
            await send(message)

        await self.app(scope, receive, tagged)


@get("/ping")
async def ping() -> str:
    return "pong"


def test_middleware_entries_in_every_documented_form():
    definitions = normalize_middleware(
        [
            CORSMiddleware,
            {"allow_origins": ["*"]},
            DefineMiddleware(TagMiddleware, tag="explicit"),
            TagMiddleware,
        ]
    )
    assert [(d.middleware, d.kwargs) for d in definitions] == [
        (CORSMiddleware, {"allow_origins": ["*"]}),
        (TagMiddleware, {"tag": "explicit"}),
        (TagMiddleware, {}),
    ]


def test_options_without_a_class_are_refused():
    with pytest.raises(ImproperlyConfigured, match="follow no middleware class"):
        normalize_middleware([{"allow_origins": ["*"]}])


def test_user_middleware_also_wraps_error_responses():
    app = Ravyn(
        routes=[ping],
        middleware=[CORSMiddleware, {"allow_origins": ["*"]}, TagMiddleware, {"tag": "t"}],
    )
    client = TestClient(app)
    ok = client.get("/ping", headers={"origin": "https://example.com"})
    assert ok.headers["access-control-allow-origin"] == "*"
    assert ok.headers["x-tag"] == "t"
    missing = client.get("/missing", headers={"origin": "https://example.com"})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == "*"


def test_request_id_is_echoed_or_made_and_logged_once_per_request():
    client = TestClient(Ravyn(routes=[ping]))
    with capture_logs() as logs:
        given = client.get("/ping", headers={"x-request-id": "abc-123"})
        made = client.get("/missing")
    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    access = [log for log in logs if log["event"] == "request"]
    assert [(log["method"], log["path"], log["status"], log["request_id"]) for log in access] == [
        ("GET", "/ping", 200, "abc-123"),
        ("GET", "/missing", 404, made.headers["x-request-id"]),
    ]
    assert all(log["duration_ms"] >= 0 for log in access)


def test_a_request_id_that_could_forge_log_lines_is_replaced():
    response = TestClient(Ravyn(routes=[ping])).get("/ping", headers={"x-request-id": "evil\tline"})
    assert response.headers["x-request-id"] != "evil\tline"


def test_middleware_and_exception_handlers_added_after_construction():
    app = Ravyn(routes=[ping])
    app.add_middleware(TagMiddleware, tag="late")
    app.add_exception_handler(404, lambda request, exc: PlainText("nothing", status_code=404))
    client = TestClient(app)
    assert client.get("/ping").headers["x-tag"] == "late"
    assert client.get("/missing").text == "nothing"


def test_head_of_a_get_route_sends_headers_only():
    response = TestClient(Ravyn(routes=[ping])).head("/ping")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(b'"pong"'))
    assert response.content == b""


class TeapotError(Exception):
    pass


async def teapot_handler(request, exc: TeapotError) -> PlainText:
    return PlainText(f"teapot: {exc}", status_code=418)


class RaisingMiddleware:
    """Raises what the request's x-raise header names, before the route is reached."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        raised = dict(scope.get("headers", ())).get(b"x-raise")
        if raised == b"teapot":
            raise TeapotError("from middleware")
        if raised == b"crash":
            raise RuntimeError("middleware crashed")
        await self.app(scope, receive, send)


@get("/brew")
async def brew() -> str:
    raise TeapotError("from handler")


def test_an_exception_raised_in_middleware_meets_the_exception_handlers():
    app = Ravyn(
        routes=[brew, ping],
        middleware=[TagMiddleware, {"tag": "outer"}, RaisingMiddleware],
        exception_handlers={TeapotError: teapot_handler},
    )
    with serve(app) as address, httpx.Client(base_url=f"http://{address}") as client:
        from_handler = client.get("/brew")
        from_middleware = client.get("/ping", headers={"x-raise": "teapot"})
        with capture_logs() as logs:
            crashed = client.get("/ping", headers={"x-raise": "crash"})
    assert (from_handler.status_code, from_handler.text) == (418, "teapot: from handler")
    assert (from_middleware.status_code, from_middleware.text) == (418, "teapot: from middleware")
    assert (crashed.status_code, crashed.json()) == (500, {"detail": "Internal Server Error"})
    errors = [log for log in logs if log["log_level"] == "error"]
    assert [log["event"] for log in errors] == ["unhandled_exception"]
